using System.Text.Json;
using Xent.Cli.LossCases;

namespace Xent.Tests;

/// <summary>The PyTorch golden cases shipped with the tests (copied from ../shared/golden and made by tools/generate_golden.py).</summary>
internal static class GoldenCases
{
    public const string SharedFile = "pytorch-1.13-cross-entropy.json";
    public const string ExtraFile = "xent-extra-cases.json";

    private static readonly Dictionary<string, (LossCase Case, JsonElement Raw)> s_cases = Load();

    public static IEnumerable<object[]> Names(string file)
        => s_cases.Keys.Where(k => k.StartsWith(file + ":", StringComparison.Ordinal)).Order(StringComparer.Ordinal).Select(k => new object[] { k });

    public static (LossCase Case, JsonElement Raw) Get(string key) => s_cases[key];

    private static Dictionary<string, (LossCase, JsonElement)> Load()
    {
        var result = new Dictionary<string, (LossCase, JsonElement)>();
        foreach (string file in new[] { SharedFile, ExtraFile })
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Golden", file);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            int i = 0;
            foreach (JsonElement raw in doc.RootElement.GetProperty("cases").EnumerateArray())
            {
                LossCase c = LossCaseReader.ReadCase(raw, $"{file}: cases[{i}]");
                string key = $"{file}:{i:D3}:{c.Name}:{raw.GetProperty("dtype").GetString()}";
                result[key] = (c, raw.Clone());
                i++;
            }
        }

        return result;
    }
}
