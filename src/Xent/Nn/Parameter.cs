namespace Xent.Nn;

/// <summary>A trainable tensor with its gradient, named as in a PyTorch state dict (for example <c>0.weight</c>).</summary>
public sealed class Parameter
{
    /// <summary>Creates a parameter of the given shape, filled with zeros.</summary>
    /// <param name="name">Its name in the state dict.</param>
    /// <param name="shape">Its shape, PyTorch order (a Linear weight is [out, in]).</param>
    public Parameter(string name, params int[] shape)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        Name = name;
        Shape = shape;
        int count = 1;
        foreach (int d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            count = checked(count * d);
        }

        Value = new float[count];
        Gradient = new float[count];
    }

    /// <summary>The name in the state dict.</summary>
    public string Name { get; internal set; }

    /// <summary>The shape.</summary>
    public int[] Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Value { get; }

    /// <summary>Whether the state dict stores it as a 64-bit integer (BatchNorm's <c>num_batches_tracked</c>); its value is held as a float, exact up to 2^24.</summary>
    public bool Integer { get; init; }

    /// <summary>The accumulated gradient, row-major. <see cref="Module.ZeroGradients"/> clears it.</summary>
    public float[] Gradient { get; }
}
