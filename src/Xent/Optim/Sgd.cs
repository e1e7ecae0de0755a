using System.Runtime.Intrinsics;
using Xent.Nn;

namespace Xent.Optim;

/// <summary>Options of <see cref="Sgd"/>, with PyTorch's defaults.</summary>
public sealed record SgdOptions
{
    /// <summary>Learning rate. Default: 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Momentum factor. Default: 0.</summary>
    public double Momentum { get; init; }

    /// <summary>Dampening for momentum. Default: 0.</summary>
    public double Dampening { get; init; }

    /// <summary>Nesterov momentum (needs momentum &gt; 0 and dampening 0). Default: false.</summary>
    public bool Nesterov { get; init; }

    /// <summary>L2 penalty added to the gradient. Default: 0.</summary>
    public double WeightDecay { get; init; }
}

/// <summary>
/// Stochastic gradient descent, PyTorch's rule: g ← ∇ + λ·θ; b ← g on the first step, then b ← μ·b + (1 − τ)·g;
/// g ← g + μ·b (Nesterov) or g ← b; θ ← θ − lr·g. Arithmetic in float32, as PyTorch's.
/// </summary>
public sealed class Sgd : Optimizer
{
    private readonly float[][] _momentum;
    private readonly SgdOptions _options;

    /// <inheritdoc />
    public override string Name => "sgd";

    /// <inheritdoc />
    public override object HyperParameters => _options;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">Nesterov without momentum, or with dampening.</exception>
    public Sgd(IReadOnlyList<Parameter> parameters, SgdOptions? options = null)
        : base(parameters, (options ?? new SgdOptions()).LearningRate)
    {
        _options = options ?? new SgdOptions();
        if (_options.Nesterov && (_options.Momentum <= 0 || _options.Dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening.", nameof(options));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(_options.Momentum, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegative(_options.WeightDecay, nameof(options));
        _momentum = [.. parameters.Select(p => new float[p.Value.Length])];
    }

    /// <inheritdoc />
    public override void Step()
    {
        float lr = (float)LearningRate, mu = (float)_options.Momentum, damp = 1f - (float)_options.Dampening, wd = (float)_options.WeightDecay;
        bool first = Steps == 0;
        for (int k = 0; k < Parameters.Count; k++)
        {
            float[] theta = Parameters[k].Value, grad = Parameters[k].Gradient, buf = _momentum[k];
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                // The same float operations in the same order as the scalar loop (and PyTorch), 16 at a time.
                Vector512<float> vlr = Vector512.Create(lr), vmu = Vector512.Create(mu), vdamp = Vector512.Create(damp), vwd = Vector512.Create(wd);
                for (; i <= theta.Length - 16; i += 16)
                {
                    Vector512<float> p = Vector512.LoadUnsafe(ref theta[i]);
                    Vector512<float> g = Vector512.LoadUnsafe(ref grad[i]);
                    if (wd != 0)
                    {
                        g += vwd * p;
                    }

                    if (mu != 0)
                    {
                        Vector512<float> b = first ? g : (vmu * Vector512.LoadUnsafe(ref buf[i])) + (vdamp * g);
                        b.StoreUnsafe(ref buf[i]);
                        g = _options.Nesterov ? g + (vmu * b) : b;
                    }

                    (p - (vlr * g)).StoreUnsafe(ref theta[i]);
                }
            }

            for (; i < theta.Length; i++)
            {
                float g = wd != 0 ? grad[i] + (wd * theta[i]) : grad[i];
                if (mu != 0)
                {
                    buf[i] = first ? g : (mu * buf[i]) + (damp * g);
                    g = _options.Nesterov ? g + (mu * buf[i]) : buf[i];
                }

                theta[i] -= lr * g;
            }
        }

        Steps++;
    }

    /// <inheritdoc />
    public override IReadOnlyDictionary<string, float[]> ExportState()
        => Parameters.Select((p, k) => (p.Name + ".momentum_buffer", _momentum[k])).ToDictionary(t => t.Item1, t => t.Item2);

    /// <inheritdoc />
    public override void ImportState(IReadOnlyDictionary<string, float[]> state, long steps)
    {
        for (int k = 0; k < Parameters.Count; k++)
        {
            Restore(state, Parameters[k].Name + ".momentum_buffer", _momentum[k]);
        }

        Steps = steps;
    }
}
