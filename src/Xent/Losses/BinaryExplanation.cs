namespace Xent.Losses;

/// <summary>One element of a binary cross-entropy on logits, as <see cref="BinaryExplanation"/> shows it.</summary>
/// <param name="Index">The element's position.</param>
/// <param name="Logit">x.</param>
/// <param name="Target">t.</param>
/// <param name="Sigmoid">σ(x).</param>
/// <param name="Weight">w (1 when none).</param>
/// <param name="PosWeight">pw (1 when none).</param>
/// <param name="PositiveTerm">−w·pw·t·log σ(x).</param>
/// <param name="NegativeTerm">−w·(1 − t)·log(1 − σ(x)).</param>
/// <param name="Loss">Their sum.</param>
public sealed record ElementTerm(string Index, double Logit, double Target, double Sigmoid, double Weight, double PosWeight, double PositiveTerm, double NegativeTerm, double Loss);

/// <summary>
/// The arithmetic of <see cref="BinaryCrossEntropyWithLogits"/>, element by element, in double precision, with the
/// broadcast weight and pos_weight of each element. The mean divides by the number of elements, not by the weights.
/// </summary>
/// <param name="Elements">The elements, row-major.</param>
/// <param name="Reduction">The reduction.</param>
public sealed record BinaryExplanation(IReadOnlyList<ElementTerm> Elements, Reduction Reduction)
{
    /// <summary>Σ of the element losses.</summary>
    public double Numerator => Elements.Sum(e => e.Loss);

    /// <summary>The number of elements.</summary>
    public double Denominator => Elements.Count;

    /// <summary>The reduced loss.</summary>
    public double Value => Reduction == Reduction.Mean ? (Elements.Count == 0 ? double.NaN : Numerator / Denominator) : Numerator;

    /// <summary>Explains a case.</summary>
    /// <param name="logits">The logits (row-major).</param>
    /// <param name="shape">Their shape.</param>
    /// <param name="targets">The targets, same shape.</param>
    /// <param name="options">Weight, pos_weight (broadcast as the loss does) and reduction.</param>
    /// <returns>The explanation.</returns>
    /// <exception cref="ArgumentException">The lengths differ or a weight does not broadcast.</exception>
    public static BinaryExplanation Explain(ReadOnlySpan<double> logits, ReadOnlySpan<nint> shape, ReadOnlySpan<double> targets, BinaryCrossEntropyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (targets.Length != logits.Length)
        {
            throw new ArgumentException($"{logits.Length} logits but {targets.Length} targets.", nameof(targets));
        }

        double[]? weight = Expand(options.Weight, shape, "weight");
        double[]? posWeight = Expand(options.PosWeight, shape, "pos_weight");
        Reduction reduction = options.Reduction;
        var elements = new List<ElementTerm>(logits.Length);
        var index = new nint[shape.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            double x = logits[i], t = targets[i], w = weight?[i] ?? 1, pw = posWeight?[i] ?? 1;
            double logSigmoid = Math.Min(x, 0) - Math.Log(1 + Math.Exp(-Math.Abs(x)));
            double logOneMinus = logSigmoid - x; // log(1 − σ(x)) = log σ(x) − x
            double positive = -w * pw * t * logSigmoid, negative = -w * (1 - t) * logOneMinus;
            elements.Add(new ElementTerm("(" + string.Join(", ", index.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + ")",
                x, t, Math.Exp(logSigmoid), w, pw, positive, negative, positive + negative));
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return new BinaryExplanation(elements, reduction);
    }

    /// <summary>An operand broadcast to every element of the shape (PyTorch's rules), or null.</summary>
    private static double[]? Expand(System.Numerics.Tensors.Tensor<double>? operand, ReadOnlySpan<nint> shape, string name)
    {
        if (operand is null)
        {
            return null;
        }

        System.Numerics.Tensors.ReadOnlyTensorSpan<double> span = operand.AsReadOnlyTensorSpan();
        nint[] strides = Xent.Kernels.BroadcastIndex.Strides(span.Lengths, shape, out _)
            ?? throw new ArgumentException($"{name} of shape {TensorArgs.Format(span.Lengths)} does not broadcast to the input's shape {TensorArgs.Format(shape)}.", "options");
        ReadOnlySpan<double> values = TensorArgs.Flat(span, name);
        long count = 1;
        foreach (nint d in shape)
        {
            count *= d;
        }

        var result = new double[count];
        var index = new nint[shape.Length];
        for (long i = 0; i < count; i++)
        {
            nint offset = 0;
            for (int d = 0; d < shape.Length; d++)
            {
                offset += index[d] * strides[d];
            }

            result[i] = values[(int)offset];
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                if (++index[d] < shape[d])
                {
                    break;
                }

                index[d] = 0;
            }
        }

        return result;
    }
}
