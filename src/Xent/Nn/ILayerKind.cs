using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// How one kind of layer is described, checked and built: the registry <see cref="LayerKinds"/> holds one per kind, so
/// a new layer is a type with a nested kind, not another branch of a central switch.
/// </summary>
internal interface ILayerKind
{
    /// <summary>The kind as stored in <see cref="LayerSpec.Kind"/>, for example <c>conv2d</c>.</summary>
    string Name { get; }

    /// <summary>A shorter name in a model description that picks this kind by the rank of its input (<c>maxpool</c> is maxpool1d on (C, L) and maxpool2d on (C, H, W)), or <see langword="null"/>.</summary>
    string? Alias => null;

    /// <summary>Whether this kind takes an input of the given rank (used to resolve <see cref="Alias"/>).</summary>
    /// <param name="rank">1 for features, 2 for (C, L), 3 for (C, H, W).</param>
    /// <returns>Whether it does.</returns>
    bool Accepts(int rank) => true;

    /// <summary>Checks a stored description without building anything, listing the parameters and buffers it would create.</summary>
    /// <param name="spec">The description.</param>
    /// <param name="check">Where it is (for messages) and the lists to add to.</param>
    /// <returns>The input and output shape of one sample.</returns>
    /// <exception cref="FormatException">The description is incomplete, inconsistent or too large; the message names the layer.</exception>
    LayerShapes Check(LayerSpec spec, LayerCheck check);

    /// <summary>Builds the layer (after <see cref="Check"/> accepted the description).</summary>
    /// <param name="spec">The description.</param>
    /// <param name="random">The generator for initial weights and dropout masks.</param>
    /// <returns>The layer.</returns>
    Module Build(LayerSpec spec, XentRandom random);

    /// <summary>Turns a model-description entry (<c>conv2d(32,3,padding=1)</c>) into a stored description, given the input shape.</summary>
    /// <param name="args">The entry's arguments.</param>
    /// <param name="input">The shape of one sample going in.</param>
    /// <returns>The description and the shape of one sample coming out.</returns>
    /// <exception cref="FormatException">An argument is missing, unknown or invalid, or the input shape does not fit; the message names both shapes.</exception>
    (LayerSpec Spec, int[] Output) Describe(LayerArguments args, int[] input);
}

/// <summary>The shape of one sample going into and coming out of a layer.</summary>
/// <param name="Input">For example [1, 28, 28].</param>
/// <param name="Output">For example [32, 26, 26].</param>
internal readonly record struct LayerShapes(int[] Input, int[] Output)
{
    /// <summary>The shape as text: <c>[32, 26, 26]</c>.</summary>
    public static string Format(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The number of values in a shape, or -1 when it does not fit in an int.</summary>
    public static int Size(IReadOnlyList<int> shape)
    {
        long size = 1;
        foreach (int d in shape)
        {
            size *= d;
            if (size > int.MaxValue)
            {
                return -1;
            }
        }

        return (int)size;
    }
}
