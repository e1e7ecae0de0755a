using System.Text.Json;
using Xent.Losses;

namespace Xent.Cli.LossCases;

/// <summary>
/// Reads case files in the golden format: one case object, or <c>{"cases": [...]}</c>.
/// Malformed JSON is reported with its line and column; a bad field with its JSON path.
/// </summary>
internal static class LossCaseReader
{
    /// <summary>A case, or the reason it could not be read.</summary>
    internal readonly record struct Entry(LossCase? Case, string? Error);

    /// <summary>Reads a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="isList">Whether the file held a list of cases.</param>
    /// <exception cref="InputException">The file is missing, is not JSON, or is not a case or a list of cases.</exception>
    public static IReadOnlyList<Entry> ReadFile(string path, out bool isList)
    {
        if (!File.Exists(path))
        {
            throw new InputException($"{path}: file not found.");
        }

        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read the file: {e.Message}", e);
        }

        return ReadText(text, Path.GetFileName(path), out isList);
    }

    /// <summary>Reads JSON text; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<Entry> ReadText(string text, string source, out bool isList)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            throw new InputException($"{source}:{line}:{column}: malformed JSON: {FirstSentence(e.Message)}", e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputException($"{source}: expected a case object or {{\"cases\": [...]}}, got {root.ValueKind.ToString().ToLowerInvariant()}.");
            }

            if (root.TryGetProperty("cases", out JsonElement cases))
            {
                if (cases.ValueKind != JsonValueKind.Array)
                {
                    throw new InputException($"{source}: \"cases\" must be an array.");
                }

                isList = true;
                var entries = new List<Entry>();
                int i = 0;
                foreach (JsonElement c in cases.EnumerateArray())
                {
                    string where = $"{source}: cases[{i++}]";
                    try
                    {
                        entries.Add(new Entry(ReadCase(c, where), null));
                    }
                    catch (InputException e)
                    {
                        entries.Add(new Entry(null, e.Message));
                    }
                }

                return entries;
            }

            isList = false;
            return [new Entry(ReadCase(root, source), null)];
        }
    }

    /// <summary>Reads one case object.</summary>
    public static LossCase ReadCase(JsonElement c, string where)
    {
        if (c.ValueKind != JsonValueKind.Object)
        {
            throw new InputException($"{where}: expected a case object.");
        }

        CaseLoss loss = CaseLoss.CrossEntropy;
        string? lossName = OptionalString(c, "function", where);
        if (lossName is null && c.TryGetProperty("loss", out JsonElement lossElement) && lossElement.ValueKind == JsonValueKind.String)
        {
            // In golden files "loss" is the expected number; only a string names the loss ("function" also does).
            lossName = lossElement.GetString() switch
            {
                "nan" or "inf" or "-inf" => null, // an expected non-finite value, as golden files write it
                var name => name,
            };
        }

        if (lossName is not null)
        {
            loss = lossName switch
            {
                "cross_entropy" => CaseLoss.CrossEntropy,
                "nll" => CaseLoss.Nll,
                "bce_with_logits" => CaseLoss.BinaryCrossEntropyWithLogits,
                "soft_cross_entropy" => CaseLoss.SoftCrossEntropy,
                var s => throw new InputException($"{where}: unknown loss \"{s}\"; expected cross_entropy, nll, bce_with_logits or soft_cross_entropy."),
            };
        }

        CaseDType dtype = OptionalString(c, "dtype", where) switch
        {
            null or "float32" or "float" => CaseDType.Float32,
            "float64" or "double" => CaseDType.Float64,
            var s => throw new InputException($"{where}.dtype: unknown dtype \"{s}\"; expected float32 or float64."),
        };

        NestedArray input = WithShape(c, "input", NestedArray.Read(Required(c, "input", where), $"{where}.input"), where);
        NestedArray target = WithShape(c, "target", NestedArray.Read(Required(c, "target", where), $"{where}.target"), where);
        bool targetIsIndex = loss switch
        {
            CaseLoss.Nll or CaseLoss.SoftCrossEntropy => true,
            CaseLoss.BinaryCrossEntropyWithLogits => false,
            _ => OptionalString(c, "target_dtype", where) switch
            {
                null => target.AllIntegers,
                "int64" or "int32" or "long" or "int" or "uint8" => true,
                "float32" or "float64" or "float" or "double" => false,
                var s => throw new InputException($"{where}.target_dtype: unknown dtype \"{s}\"; expected int64, float32 or float64."),
            },
        };

        if (targetIsIndex)
        {
            for (int i = 0; i < target.Values.Length; i++)
            {
                double v = target.Values[i];
                if (v != Math.Floor(v) || v < int.MinValue || v > int.MaxValue)
                {
                    throw new InputException($"{where}.target: class indices must be integers; element {i} is {v}.");
                }
            }
        }

        return new LossCase
        {
            Where = where,
            Name = OptionalString(c, "name", where),
            Loss = loss,
            DType = dtype,
            Input = input,
            Target = target,
            TargetIsIndex = targetIsIndex,
            Weight = Optional(c, "weight", where),
            PosWeight = Optional(c, "pos_weight", where),
            IgnoreIndex = c.TryGetProperty("ignore_index", out JsonElement ii) && ii.ValueKind != JsonValueKind.Null
                ? (ii.ValueKind == JsonValueKind.Number && ii.TryGetInt32(out int ignore) ? ignore : throw new InputException($"{where}.ignore_index: expected an integer, got {ii.GetRawText()}."))
                : -100,
            Reduction = OptionalString(c, "reduction", where) is { } r ? ParseReduction(r, where) : Reduction.Mean,
            LabelSmoothing = c.TryGetProperty("label_smoothing", out JsonElement ls) && ls.ValueKind != JsonValueKind.Null
                ? (ls.ValueKind == JsonValueKind.Number ? ls.GetDouble() : throw new InputException($"{where}.label_smoothing: expected a number, got {ls.GetRawText()}."))
                : 0.0,
        };
    }

    /// <summary>
    /// Applies an optional "&lt;name&gt;_shape" field: nested arrays cannot show a dimension after a 0 (an empty
    /// (0, 4) batch is written []), so the shape may be given explicitly; it must agree with the values.
    /// </summary>
    private static NestedArray WithShape(JsonElement c, string name, NestedArray array, string where)
    {
        if (!c.TryGetProperty(name + "_shape", out JsonElement shapeElement) || shapeElement.ValueKind == JsonValueKind.Null)
        {
            return array;
        }

        NestedArray shape = NestedArray.Read(shapeElement, $"{where}.{name}_shape");
        if (shape.Shape.Length != 1 || !shape.AllIntegers || shape.Values.Any(v => v < 0))
        {
            throw new InputException($"{where}.{name}_shape: expected a list of non-negative integers.");
        }

        nint[] lengths = [.. shape.Values.Select(v => (nint)v)];
        long count = lengths.Aggregate(1L, (a, b) => a * b);
        if (count != array.Values.Length)
        {
            throw new InputException($"{where}.{name}_shape: {NestedArray.FormatShape(lengths)} holds {count} elements but {name} has {array.Values.Length}.");
        }

        if (count > 0 && !lengths.AsSpan().SequenceEqual(array.Shape))
        {
            throw new InputException($"{where}.{name}_shape: {NestedArray.FormatShape(lengths)} does not match the nesting of {name}, {NestedArray.FormatShape(array.Shape)}.");
        }

        return array with { Shape = lengths };
    }

    private static Reduction ParseReduction(string value, string where)
    {
        try
        {
            return ReductionParser.Parse(value);
        }
        catch (ArgumentException e)
        {
            throw new InputException($"{where}.reduction: {FirstSentence(e.Message)}", e);
        }
    }

    private static JsonElement Required(JsonElement c, string name, string where)
        => c.TryGetProperty(name, out JsonElement e) && e.ValueKind != JsonValueKind.Null
            ? e
            : throw new InputException($"{where}: missing required field \"{name}\".");

    private static NestedArray? Optional(JsonElement c, string name, string where)
        => c.TryGetProperty(name, out JsonElement e) && e.ValueKind != JsonValueKind.Null ? NestedArray.Read(e, $"{where}.{name}") : null;

    private static string? OptionalString(JsonElement c, string name, string where)
    {
        if (!c.TryGetProperty(name, out JsonElement e) || e.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return e.ValueKind == JsonValueKind.String ? e.GetString() : throw new InputException($"{where}.{name}: expected a string, got {e.GetRawText()}.");
    }

    /// <summary>The first line of an exception message (the CLI prints one line).</summary>
    public static string FirstSentence(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}
