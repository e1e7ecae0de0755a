using Xent.Cli.LossCases;
using Xent.Nn;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Xent.Cli.Training;

/// <summary>
/// Reads <c>--model</c>: a compact description (<c>conv2d(32,3),relu,maxpool(2),flatten,linear(128),relu,linear</c>)
/// or a JSON or YAML file holding a list of layers (or an object with <c>layers</c>). A layer in a file is a compact
/// string (<c>"conv2d(32,3)"</c>) or an object with <c>kind</c> and named arguments (<c>{kind: conv2d, out: 32,
/// kernel: 3, padding: 1}</c>; a list value such as <c>[3, 5]</c> is a size per dimension).
/// </summary>
internal static class ModelOption
{
    public static IReadOnlyList<LayerEntry> Read(string text)
    {
        string trimmed = text.Trim();
        bool file = File.Exists(trimmed) || trimmed.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || trimmed.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || trimmed.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);
        try
        {
            IReadOnlyList<LayerEntry> layers = file ? ReadFile(trimmed) : ModelDescription.Parse(trimmed);
            ModelDescription.CheckKinds(layers);
            return layers;
        }
        catch (FormatException e)
        {
            throw new InputException("--model: " + e.Message, e);
        }
    }

    private static IReadOnlyList<LayerEntry> ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"--model: {path}: file not found.");
        }

        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            throw new InputException($"--model: {path}:{e.Start.Line}:{e.Start.Column}: not valid JSON or YAML ({e.Message}).", e);
        }

        YamlNode? root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        if (root is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode("layers"), out YamlNode? layers))
        {
            if (map.Children.Keys.FirstOrDefault(k => (k as YamlScalarNode)?.Value != "layers") is { } other)
            {
                throw new InputException($"--model: {path}:{other.Start.Line}:{other.Start.Column}: unknown key '{(other as YamlScalarNode)?.Value}'; the file holds \"layers\" only.");
            }

            root = layers;
        }

        if (root is not YamlSequenceNode list || list.Children.Count == 0)
        {
            throw new InputException($"--model: {path}: expected a list of layers (or an object with \"layers\"), for example [\"conv2d(32,3)\", \"relu\", {{\"kind\": \"maxpool\", \"kernel\": 2}}, \"flatten\", \"linear\"].");
        }

        var entries = new List<LayerEntry>();
        foreach (YamlNode item in list.Children)
        {
            string where = $"{path}:{item.Start.Line}:{item.Start.Column}";
            switch (item)
            {
                case YamlScalarNode { Value: { } value }:
                    try
                    {
                        entries.AddRange(ModelDescription.Parse(value));
                    }
                    catch (FormatException e)
                    {
                        throw new InputException($"--model: {where}: {e.Message}", e);
                    }

                    break;
                case YamlMappingNode layer:
                {
                    string? kind = null;
                    var named = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach ((YamlNode key, YamlNode value) in layer.Children)
                    {
                        string name = ((key as YamlScalarNode)?.Value ?? string.Empty).Trim().ToLowerInvariant().Replace('-', '_');
                        string? scalar = value switch
                        {
                            YamlScalarNode s => s.Value,
                            YamlSequenceNode seq when seq.Children.All(c => c is YamlScalarNode) => string.Join("x", seq.Children.Cast<YamlScalarNode>().Select(c => c.Value)),
                            _ => null,
                        };
                        if (scalar is null)
                        {
                            throw new InputException($"--model: {where}: the value of '{name}' must be a number, a word or a list of sizes.");
                        }

                        if (name is "kind" or "type")
                        {
                            kind = scalar.Trim().ToLowerInvariant();
                        }
                        else
                        {
                            named[name] = scalar;
                        }
                    }

                    entries.Add(new LayerEntry(kind ?? throw new InputException($"--model: {where}: a layer object needs \"kind\" (conv2d, relu, maxpool…)."), [], named));
                    break;
                }

                default:
                    throw new InputException($"--model: {where}: a layer is a string such as \"conv2d(32,3)\" or an object with \"kind\".");
            }
        }

        return entries;
    }
}
