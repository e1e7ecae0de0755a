namespace Xent.Nn;

/// <summary>The registry of layer kinds that <see cref="LayerSpec"/> checks and builds, and that a model description names.</summary>
internal static class LayerKinds
{
    private static readonly ILayerKind[] All =
    [
        new Linear.Kind(),
        new CosineLinear.Kind(),
        new ReLU.Kind(),
        new Dropout.Kind(),
        new LogSoftmax.Kind(),
        new Softmax.Kind(),
        new Conv1d.Kind(),
        new Conv2d.Kind(),
        new MaxPool1d.Kind(),
        new MaxPool2d.Kind(),
        new AvgPool1d.Kind(),
        new AvgPool2d.Kind(),
        new GlobalAvgPool.Kind(),
        new Flatten.Kind(),
        new BatchNorm1d.Kind(),
        new BatchNorm2d.Kind(),
    ];

    private static readonly Dictionary<string, ILayerKind> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The kind stored under this name, or <see langword="null"/>.</summary>
    public static ILayerKind? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>The kind a model description means by <paramref name="name"/> for an input of rank <paramref name="rank"/> (an alias such as <c>maxpool</c> picks by rank), or <see langword="null"/>.</summary>
    public static ILayerKind? Resolve(string name, int rank)
        => Find(name) ?? All.FirstOrDefault(k => k.Alias == name && k.Accepts(rank)) ?? All.FirstOrDefault(k => k.Alias == name);

    /// <summary>The accepted name nearest to <paramref name="name"/>, at most two edits away, or <see langword="null"/>.</summary>
    public static string? Suggest(string name)
        => Names.Select(n => (Name: n, Distance: LayerArguments.Distance(name, n))).Where(p => p.Distance <= 2).OrderBy(p => p.Distance).Select(p => p.Name).FirstOrDefault();

    /// <summary>The message for a kind no layer has: the suggestion, if any, and every accepted name.</summary>
    public static string Unknown(string where, string? kind)
        => $"{where}: unknown layer kind '{kind}'; {(Suggest((kind ?? string.Empty).Trim().ToLowerInvariant()) is { } near ? $"did you mean '{near}'? " : string.Empty)}known kinds: {string.Join(", ", Names)}.";

    /// <summary>Every name a model description accepts, for messages.</summary>
    public static IEnumerable<string> Names => All.Select(k => k.Name).Concat(All.Select(k => k.Alias).OfType<string>()).Distinct().Order(StringComparer.Ordinal);
}
