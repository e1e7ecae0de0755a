using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Xent.Cli.LossCases;

/// <summary>A nested JSON array read into its shape and its values in row-major order.</summary>
/// <param name="Shape">The lengths; empty for a scalar.</param>
/// <param name="Values">The values.</param>
/// <param name="AllIntegers">Whether every number was written without a fraction or exponent.</param>
internal sealed record NestedArray(nint[] Shape, double[] Values, bool AllIntegers)
{
    /// <summary>Reads a number, a nested array of numbers, or the strings "nan", "inf", "-inf" (through the same streaming reader as case files).</summary>
    /// <param name="element">The JSON value.</param>
    /// <param name="where">Where it is, for messages: for example <c>cases.json: cases[2].input</c>.</param>
    /// <exception cref="InputException">It is not a number or a regular nested array of numbers.</exception>
    public static NestedArray Read(JsonElement element, string where)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(element.GetRawText()));
        var counter = new JsonTokenStream(stream, where);
        counter.Read();
        long leaves = CountLeaves(counter);
        stream.Position = 0;
        var tokens = new JsonTokenStream(stream, where);
        tokens.Read();
        return Parse(tokens, where, leaves, out InputException? error) ?? throw error!;
    }

    /// <summary>
    /// The first pass over a value: how many numbers and strings it holds (the length of its values when it is a
    /// regular array), so that the second pass allocates exactly. Leaves the stream on the value's last token.
    /// </summary>
    public static long CountLeaves(JsonTokenStream tokens)
    {
        if (tokens.TokenType is not (JsonTokenType.StartArray or JsonTokenType.StartObject))
        {
            return tokens.TokenType is JsonTokenType.Number or JsonTokenType.String ? 1 : 0;
        }

        int depth = tokens.Depth;
        long leaves = 0;
        while (tokens.Read() && !(tokens.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject && tokens.Depth == depth))
        {
            if (tokens.TokenType is JsonTokenType.Number or JsonTokenType.String)
            {
                leaves++;
            }
        }

        return leaves;
    }

    /// <summary>
    /// The second pass: reads the value that starts at the current token into an array of exactly
    /// <paramref name="leaves"/> values (from <see cref="CountLeaves"/>), checking that the nesting is regular. The
    /// shape is that of the first element at each depth. Leaves the stream on the value's last token, also on error.
    /// </summary>
    /// <param name="tokens">The stream, on the value's first token.</param>
    /// <param name="where">Where the value is, for messages.</param>
    /// <param name="leaves">The count of the first pass.</param>
    /// <param name="error">Why the value is not an array of numbers; set when the result is <see langword="null"/>.</param>
    /// <returns>The array, or <see langword="null"/> on error.</returns>
    public static NestedArray? Parse(JsonTokenStream tokens, string where, long leaves, out InputException? error)
    {
        error = null;
        bool allIntegers = true;
        string? problem = null;
        if (tokens.TokenType != JsonTokenType.StartArray)
        {
            double value = ReadNumber(tokens, ref allIntegers, ref problem);
            if (problem is not null)
            {
                error = new InputException($"{where}: {problem}");
                return null;
            }

            return new NestedArray([], [value], allIntegers);
        }

        int baseDepth = tokens.Depth;
        if (leaves > Array.MaxLength)
        {
            tokens.SkipValue();
            error = new InputException($"{where}: {leaves} values, more than Xent holds in one array.");
            return null;
        }

        var values = new double[leaves];
        var shape = new List<nint> { -1 }; // a length is -1 until the first array at its depth closes
        int leafDepth = -1;
        Span<int> count = stackalloc int[MaxDepth + 2];
        Span<int> index = stackalloc int[MaxDepth + 2];
        Span<bool> chain = stackalloc bool[MaxDepth + 2];
        chain[0] = true;
        int r = 0;
        long k = 0;
        while (true)
        {
            if (!tokens.Read())
            {
                error = Changed(where);
                return null;
            }

            if (tokens.TokenType == JsonTokenType.EndArray)
            {
                if (shape[r] < 0)
                {
                    shape[r] = count[r];
                    if (leafDepth < 0)
                    {
                        leafDepth = r + 1; // an empty array ends the first chain
                    }
                }
                else if (count[r] != shape[r])
                {
                    error = new InputException($"{Path(where, index, r)}: ragged array: expected {shape[r]} elements, got {count[r]}.");
                    break;
                }

                if (r == 0)
                {
                    break;
                }

                r--;
                continue;
            }

            // An element of the array at relative depth r.
            int i = count[r]++;
            if (shape[r] >= 0 && i >= shape[r])
            {
                int total = i + 1;
                tokens.SkipValue();
                while (tokens.Read() && !(tokens.TokenType == JsonTokenType.EndArray && tokens.Depth == baseDepth + r))
                {
                    total++;
                    tokens.SkipValue();
                }

                error = new InputException($"{Path(where, index, r)}: ragged array: expected {shape[r]} elements, got {total}.");
                break;
            }

            if (leafDepth < 0 && tokens.TokenType != JsonTokenType.StartArray)
            {
                leafDepth = r + 1;
            }

            if (leafDepth < 0 || r + 1 < leafDepth)
            {
                if (tokens.TokenType != JsonTokenType.StartArray)
                {
                    error = new InputException($"{Path(where, index, r)}[{i}]: expected an array of {shape[r + 1]} elements at depth {r + 1}, got {Describe(tokens)} (ragged nesting).");
                    break;
                }

                if (r + 1 > MaxDepth)
                {
                    tokens.SkipValue();
                    error = new InputException($"{Path(where, index, r)}: nested more than {MaxDepth} deep.");
                    break;
                }

                r++;
                count[r] = 0;
                index[r] = i;
                chain[r] = chain[r - 1] && i == 0;
                if (chain[r] && shape.Count == r)
                {
                    shape.Add(-1);
                }

                continue;
            }

            if (tokens.TokenType == JsonTokenType.StartArray)
            {
                error = new InputException($"{Path(where, index, r)}[{i}]: expected a number, got {Describe(tokens)}.");
                break;
            }

            double v = ReadNumber(tokens, ref allIntegers, ref problem);
            if (problem is not null)
            {
                error = new InputException($"{Path(where, index, r)}[{i}]: {problem}");
                break;
            }

            if (k == values.Length)
            {
                error = Changed(where);
                break;
            }

            values[k++] = v;
        }

        if (error is not null)
        {
            // Stop on the value's last token, as on success.
            while (!(tokens.TokenType == JsonTokenType.EndArray && tokens.Depth == baseDepth) && tokens.Read())
            {
            }

            return null;
        }

        if (k != values.Length)
        {
            error = Changed(where);
            return null;
        }

        return new NestedArray([.. shape], values, allIntegers);
    }

    /// <summary>The deepest nesting read (the JSON reader's own limit is 64).</summary>
    private const int MaxDepth = 64;

    private static InputException Changed(string where) => new($"{where}: the file changed while it was read.");

    private static string Path(string where, ReadOnlySpan<int> index, int depth)
    {
        var path = new StringBuilder(where);
        for (int d = 1; d <= depth; d++)
        {
            path.Append('[').Append(index[d]).Append(']');
        }

        return path.ToString();
    }

    /// <summary>Reads one number at the current token, accepting "nan", "inf" and "-inf" as strings; sets <paramref name="problem"/> otherwise.</summary>
    public static double ReadNumber(JsonTokenStream tokens, ref bool isInteger, ref string? problem)
    {
        switch (tokens.TokenType)
        {
            case JsonTokenType.Number:
                ReadOnlySpan<byte> raw = tokens.ValueSpan;
                if (raw.IndexOfAny(".eE"u8) >= 0)
                {
                    isInteger = false;
                }

                if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
                {
                    problem = $"the number {Shorten(Encoding.UTF8.GetString(raw))} is out of range.";
                }

                return value;
            case JsonTokenType.String:
                isInteger = false;
                if (!tokens.ValueIsEscaped && tokens.ValueSpan.Length <= 9)
                {
                    ReadOnlySpan<byte> text = tokens.ValueSpan;
                    if (Ascii.EqualsIgnoreCase(text, "nan"u8))
                    {
                        return double.NaN;
                    }

                    if (Ascii.EqualsIgnoreCase(text, "inf"u8) || Ascii.EqualsIgnoreCase(text, "infinity"u8) || Ascii.EqualsIgnoreCase(text, "+inf"u8))
                    {
                        return double.PositiveInfinity;
                    }

                    if (Ascii.EqualsIgnoreCase(text, "-inf"u8) || Ascii.EqualsIgnoreCase(text, "-infinity"u8))
                    {
                        return double.NegativeInfinity;
                    }
                }

                string s = tokens.GetString().ToLowerInvariant();
                switch (s)
                {
                    case "nan":
                        return double.NaN;
                    case "inf" or "infinity" or "+inf":
                        return double.PositiveInfinity;
                    case "-inf" or "-infinity":
                        return double.NegativeInfinity;
                }

                problem = $"expected a number, got the string \"{Shorten(s)}\" (only \"nan\", \"inf\" and \"-inf\" are allowed).";
                return 0;
            default:
                problem = $"expected a number, got {Describe(tokens)}.";
                return 0;
        }
    }

    /// <summary>Describes the value at the current token for a message (skipping it when it is an array or an object).</summary>
    public static string Describe(JsonTokenStream tokens)
    {
        switch (tokens.TokenType)
        {
            case JsonTokenType.StartArray:
                int depth = tokens.Depth, n = 0;
                while (tokens.Read() && !(tokens.TokenType == JsonTokenType.EndArray && tokens.Depth == depth))
                {
                    n++;
                    tokens.SkipValue();
                }

                return $"an array of {n}";
            case JsonTokenType.StartObject:
                tokens.SkipValue();
                return "an object";
            case JsonTokenType.String:
                return $"the string \"{Shorten(tokens.GetString())}\"";
            case JsonTokenType.Number:
                return $"the number {Shorten(Encoding.UTF8.GetString(tokens.ValueSpan))}";
            case JsonTokenType.True:
                return "true";
            case JsonTokenType.False:
                return "false";
            default:
                return "null";
        }
    }

    /// <summary>Cuts user text quoted in a message to 80 characters, on one line.</summary>
    public static string Shorten(string text)
    {
        string line = text.Length <= 80 ? text : text[..80] + "…";
        return line.ReplaceLineEndings("\\n");
    }

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
