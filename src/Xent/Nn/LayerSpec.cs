using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// A serialisable description of a layer, stored in model files so that the architecture can be rebuilt.
/// Kinds: <c>linear</c>, <c>relu</c>, <c>dropout</c>, <c>log_softmax</c>, <c>softmax</c>, <c>sequential</c>, <c>segment_head</c>.
/// </summary>
/// <param name="Kind">The layer kind.</param>
/// <param name="In">Input features per sample.</param>
/// <param name="Out">Output features per sample.</param>
/// <param name="Probability">Dropout probability (dropout only).</param>
public sealed record LayerSpec(string Kind, int In, int Out, float Probability = 0)
{
    /// <summary>Segments per sample (segment_head only).</summary>
    public int Segments { get; init; }

    /// <summary>Child layers (sequential, and segment_head's inner network).</summary>
    public IReadOnlyList<LayerSpec>? Layers { get; init; }

    /// <summary>Builds the described layer; parameters are initialised from <paramref name="random"/> (then usually overwritten by loading).</summary>
    /// <param name="random">The generator for initial weights and dropout masks.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="FormatException">The description is incomplete or unknown.</exception>
    public Module Build(XentRandom random) => Kind switch
    {
        "linear" => new Linear(In, Out, random),
        "relu" => new ReLU(In),
        "dropout" => new Dropout(In, Probability, random),
        "log_softmax" => new LogSoftmax(In),
        "softmax" => new Softmax(In),
        "sequential" => BuildSequential(Layers, random),
        "segment_head" => new SegmentHead(Segments, BuildSequential(Layers, random)),
        _ => throw new FormatException($"Unknown layer kind '{Kind}'."),
    };

    private static Sequential BuildSequential(IReadOnlyList<LayerSpec>? layers, XentRandom random)
    {
        if (layers is null || layers.Count == 0)
        {
            throw new FormatException("A sequential layer description lists no layers.");
        }

        var model = new Sequential([.. layers.Select(l => l.Build(random))]);
        model.NameParameters();
        return model;
    }
}
