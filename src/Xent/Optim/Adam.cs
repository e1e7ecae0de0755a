using System.Runtime.Intrinsics;
using Xent.Nn;

namespace Xent.Optim;

/// <summary>Options of <see cref="Adam"/> and AdamW, with PyTorch's defaults.</summary>
public sealed record AdamOptions
{
    /// <summary>Learning rate. Default: 0.001.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>β1. Default: 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β2. Default: 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε. Default: 1e-8.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>Weight decay: an L2 term in the gradient for Adam; decoupled (θ ← θ·(1 − lr·λ)) for AdamW.
    /// Default: 0 (PyTorch's AdamW defaults to 0.01; <see cref="Adam.AdamW"/> applies that default).</summary>
    public double WeightDecay { get; init; }
}

/// <summary>
/// Adam and AdamW with PyTorch's rule: m ← β1·m + (1 − β1)·g; v ← β2·v + (1 − β2)·g²;
/// θ ← θ − (lr / (1 − β1ᵗ))·m / (√v / √(1 − β2ᵗ) + ε). Arithmetic in float32, as PyTorch's.
/// </summary>
public sealed class Adam : Optimizer
{
    private readonly float[][] _m;
    private readonly float[][] _v;
    private readonly AdamOptions _options;

    /// <summary>Creates Adam (L2 weight decay in the gradient) or, with <paramref name="decoupled"/>, AdamW.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <param name="decoupled">AdamW's decoupled weight decay.</param>
    public Adam(IReadOnlyList<Parameter> parameters, AdamOptions? options = null, bool decoupled = false)
        : base(parameters, (options ?? new AdamOptions()).LearningRate)
    {
        _options = options ?? new AdamOptions();
        if (!(_options.Beta1 >= 0 && _options.Beta1 < 1) || !(_options.Beta2 >= 0 && _options.Beta2 < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Adam's betas must be in [0, 1).");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(_options.Epsilon, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.WeightDecay, nameof(options));
        Decoupled = decoupled;
        _m = [.. parameters.Select(p => new float[p.Value.Length])];
        _v = [.. parameters.Select(p => new float[p.Value.Length])];
    }

    /// <inheritdoc />
    public override string Name => Decoupled ? "adamw" : "adam";

    /// <inheritdoc />
    public override object HyperParameters => _options;

    /// <summary>Creates AdamW; its weight decay defaults to PyTorch's 0.01 when the options leave it unset.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">The options.</param>
    /// <returns>The optimizer.</returns>
    public static Adam AdamW(IReadOnlyList<Parameter> parameters, AdamOptions? options = null)
        => new(parameters, options ?? new AdamOptions { WeightDecay = 0.01 }, decoupled: true);

    /// <summary>Whether this is AdamW (decoupled weight decay).</summary>
    public bool Decoupled { get; }

    /// <inheritdoc />
    public override void Step()
    {
        Steps++;
        float lr = (float)LearningRate, b1 = (float)_options.Beta1, b2 = (float)_options.Beta2, eps = (float)_options.Epsilon, wd = (float)_options.WeightDecay;
        double biasCorrection1 = 1 - Math.Pow(_options.Beta1, Steps);
        double biasCorrection2 = 1 - Math.Pow(_options.Beta2, Steps);
        float stepSize = (float)(LearningRate / biasCorrection1);
        float sqrtBias2 = (float)Math.Sqrt(biasCorrection2);
        for (int k = 0; k < Parameters.Count; k++)
        {
            float[] theta = Parameters[k].Value, grad = Parameters[k].Gradient, m = _m[k], v = _v[k];
            int i = 0;
            if (Vector512.IsHardwareAccelerated && (wd == 0 || Decoupled))
            {
                // The same float operations in the same order as the scalar loop (and PyTorch 1.13), 16 at a time.
                Vector512<float> vb1 = Vector512.Create(b1), v1b1 = Vector512.Create(1 - b1), vb2 = Vector512.Create(b2), v1b2 = Vector512.Create(1 - b2);
                Vector512<float> vsq = Vector512.Create(sqrtBias2), veps = Vector512.Create(eps), vstep = Vector512.Create(stepSize), vdecay = Vector512.Create(1 - (lr * wd));
                for (; i <= theta.Length - 16; i += 16)
                {
                    Vector512<float> g = Vector512.LoadUnsafe(ref grad[i]);
                    Vector512<float> p = Vector512.LoadUnsafe(ref theta[i]);
                    if (wd != 0)
                    {
                        p *= vdecay;
                    }

                    Vector512<float> mi = (Vector512.LoadUnsafe(ref m[i]) * vb1) + (g * v1b1);
                    Vector512<float> vi = (Vector512.LoadUnsafe(ref v[i]) * vb2) + (v1b2 * g * g);
                    mi.StoreUnsafe(ref m[i]);
                    vi.StoreUnsafe(ref v[i]);
                    Vector512<float> denom = (Vector512.Sqrt(vi) / vsq) + veps;
                    (p - (vstep * (mi / denom))).StoreUnsafe(ref theta[i]);
                }
            }

            for (; i < theta.Length; i++)
            {
                float g = grad[i];
                if (wd != 0)
                {
                    if (Decoupled)
                    {
                        theta[i] *= 1 - (lr * wd);
                    }
                    else
                    {
                        g += wd * theta[i];
                    }
                }

                m[i] = (m[i] * b1) + (g * (1 - b1));
                v[i] = (v[i] * b2) + ((1 - b2) * g * g);
                float denom = (MathF.Sqrt(v[i]) / sqrtBias2) + eps;
                theta[i] -= stepSize * (m[i] / denom);
            }
        }
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, float[]> ExportState()
    {
        var state = new Dictionary<string, float[]>();
        for (int k = 0; k < Parameters.Count; k++)
        {
            state[Parameters[k].Name + ".exp_avg"] = _m[k];
            state[Parameters[k].Name + ".exp_avg_sq"] = _v[k];
        }

        return state;
    }

    /// <inheritdoc />
    public override void ImportState(IReadOnlyDictionary<string, float[]> state, long steps)
    {
        for (int k = 0; k < Parameters.Count; k++)
        {
            Restore(state, Parameters[k].Name + ".exp_avg", _m[k]);
            Restore(state, Parameters[k].Name + ".exp_avg_sq", _v[k]);
        }

        Steps = steps;
    }
}
