using System.Globalization;

namespace Xent.Nn;

/// <summary>
/// One layer of a model description as written: a kind and its arguments, for example <c>conv2d(32,3,padding=1)</c>
/// is kind <c>conv2d</c>, positional arguments <c>32</c> and <c>3</c>, and <c>padding=1</c>. Values stay text until the
/// layer kind reads them (sizes may be written <c>3x5</c>).
/// </summary>
/// <param name="Kind">The kind, lower case (<c>conv2d</c>, <c>relu</c>, <c>maxpool</c>…).</param>
/// <param name="Positional">Arguments by position.</param>
/// <param name="Named">Arguments by name.</param>
public sealed record LayerEntry(string Kind, IReadOnlyList<string> Positional, IReadOnlyDictionary<string, string> Named)
{
    /// <summary>Creates an entry without arguments.</summary>
    /// <param name="kind">The kind.</param>
    public LayerEntry(string kind)
        : this(kind, [], new Dictionary<string, string>())
    {
    }

    /// <summary>The entry in the compact syntax: <c>conv2d(32,3,padding=1)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        string[] args = [.. Positional, .. Named.Select(kv => kv.Key + "=" + kv.Value)];
        return args.Length == 0 ? Kind : string.Create(CultureInfo.InvariantCulture, $"{Kind}({string.Join(",", args)})");
    }
}
