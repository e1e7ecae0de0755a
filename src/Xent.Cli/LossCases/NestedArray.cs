using System.Globalization;
using System.Text.Json;

namespace Xent.Cli.LossCases;

/// <summary>A nested JSON array read into its shape and its values in row-major order.</summary>
/// <param name="Shape">The lengths; empty for a scalar.</param>
/// <param name="Values">The values.</param>
/// <param name="AllIntegers">Whether every number was written without a fraction or exponent.</param>
internal sealed record NestedArray(nint[] Shape, double[] Values, bool AllIntegers)
{
    /// <summary>Reads a number, a nested array of numbers, or the strings "nan", "inf", "-inf".</summary>
    /// <param name="element">The JSON value.</param>
    /// <param name="where">Where it is, for messages: for example <c>cases.json: cases[2].input</c>.</param>
    public static NestedArray Read(JsonElement element, string where)
    {
        var shape = new List<nint>();
        JsonElement probe = element;
        while (probe.ValueKind == JsonValueKind.Array)
        {
            shape.Add(probe.GetArrayLength());
            if (probe.GetArrayLength() == 0)
            {
                break;
            }

            probe = probe[0];
        }

        var values = new List<double>();
        bool allIntegers = true;
        Walk(element, 0, where);
        return new NestedArray([.. shape], [.. values], allIntegers);

        void Walk(JsonElement e, int depth, string path)
        {
            if (depth == shape.Count)
            {
                values.Add(ReadNumber(e, path, ref allIntegers));
                return;
            }

            if (e.ValueKind != JsonValueKind.Array)
            {
                throw new InputException($"{path}: expected an array of {shape[depth]} elements at depth {depth}, got {Describe(e)} (ragged nesting).");
            }

            if (e.GetArrayLength() != shape[depth])
            {
                throw new InputException($"{path}: ragged array: expected {shape[depth]} elements, got {e.GetArrayLength()}.");
            }

            int i = 0;
            foreach (JsonElement child in e.EnumerateArray())
            {
                Walk(child, depth + 1, $"{path}[{i++}]");
            }
        }
    }

    /// <summary>Reads one number, accepting "nan", "inf" and "-inf" as strings.</summary>
    public static double ReadNumber(JsonElement e, string path, ref bool isInteger)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                string raw = e.GetRawText();
                if (raw.IndexOfAny(['.', 'e', 'E']) >= 0)
                {
                    isInteger = false;
                }

                return e.GetDouble();
            case JsonValueKind.String:
                isInteger = false;
                return e.GetString()!.ToLowerInvariant() switch
                {
                    "nan" => double.NaN,
                    "inf" or "infinity" or "+inf" => double.PositiveInfinity,
                    "-inf" or "-infinity" => double.NegativeInfinity,
                    var s => throw new InputException($"{path}: expected a number, got the string \"{s}\" (only \"nan\", \"inf\" and \"-inf\" are allowed)."),
                };
            default:
                throw new InputException($"{path}: expected a number, got {Describe(e)}.");
        }
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Array => $"an array of {e.GetArrayLength()}",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    /// <summary>Writes values of the given shape as a nested array; NaN and infinities as strings.</summary>
    public static void Write(Utf8JsonWriter writer, ReadOnlySpan<nint> shape, ReadOnlySpan<double> values)
    {
        int offset = 0;
        WriteLevel(writer, shape, values, 0, ref offset);
    }

    private static void WriteLevel(Utf8JsonWriter writer, ReadOnlySpan<nint> shape, ReadOnlySpan<double> values, int depth, ref int offset)
    {
        if (depth == shape.Length)
        {
            WriteNumber(writer, values[offset++]);
            return;
        }

        writer.WriteStartArray();
        for (nint i = 0; i < shape[depth]; i++)
        {
            WriteLevel(writer, shape, values, depth + 1, ref offset);
        }

        writer.WriteEndArray();
    }

    /// <summary>Writes a number in the golden format: shortest round-trip text, or "nan", "inf", "-inf".</summary>
    public static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (double.IsNaN(value))
        {
            writer.WriteStringValue("nan");
        }
        else if (double.IsInfinity(value))
        {
            writer.WriteStringValue(value > 0 ? "inf" : "-inf");
        }
        else
        {
            writer.WriteNumberValue(value);
        }
    }

    /// <summary>Formats a shape for messages: <c>[2, 3]</c>.</summary>
    public static string FormatShape(ReadOnlySpan<nint> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++)
        {
            parts[i] = shape[i].ToString(CultureInfo.InvariantCulture);
        }

        return "[" + string.Join(", ", parts) + "]";
    }
}
