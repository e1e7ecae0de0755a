using System.Globalization;
using System.Text;
using System.Text.Json;
using Xent.Losses;

namespace Xent.Cli.LossCases;

/// <summary>
/// Reads case files in the golden format: one case object, or <c>{"cases": [...]}</c>.
/// Malformed JSON is reported with its line and column; a bad field with its JSON path.
/// </summary>
/// <remarks>
/// Files are streamed twice through a small buffer: a first pass checks the JSON and counts the numbers of each
/// array, a second pass fills arrays of exactly that size. No text of the whole file, no document tree and no growing
/// list is ever held, so reading allocates the cases' values (at most 8 bytes for every 2 bytes of file: "0,") plus a
/// constant: within 4 times the file's size for files whose size is in their arrays.
/// </remarks>
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

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            if (!stream.CanSeek)
            {
                throw new InputException($"{path}: not a regular file.");
            }

            return Read(stream, Path.GetFileName(path), out isList);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputException($"{path}: cannot read the file: {e.Message}", e);
        }
    }

    /// <summary>Reads JSON text; <paramref name="source"/> names it in messages.</summary>
    public static IReadOnlyList<Entry> ReadText(string text, string source, out bool isList)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return Read(stream, source, out isList);
    }

    /// <summary>Reads one case object.</summary>
    public static LossCase ReadCase(JsonElement c, string where)
    {
        if (c.ValueKind != JsonValueKind.Object)
        {
            throw new InputException($"{where}: expected a case object.");
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(c.GetRawText()));
        Scan scan = ScanDocument(stream, where);
        stream.Position = 0;
        var tokens = new JsonTokenStream(stream, where);
        tokens.Read();
        return Build(ReadFields(tokens, where, scan), where);
    }

    private static IReadOnlyList<Entry> Read(Stream stream, string source, out bool isList)
    {
        try
        {
            Scan scan = ScanDocument(stream, source);
            if (scan.Root != JsonTokenType.StartObject)
            {
                string kind = scan.Root switch
                {
                    JsonTokenType.StartArray => "array",
                    JsonTokenType.String => "string",
                    JsonTokenType.Number => "number",
                    JsonTokenType.True => "true",
                    JsonTokenType.False => "false",
                    _ => "null",
                };
                throw new InputException($"{source}: expected a case object or {{\"cases\": [...]}}, got {kind}.");
            }

            if (scan.CasesSeen > 0 && !scan.LastCasesIsArray)
            {
                throw new InputException($"{source}: \"cases\" must be an array.");
            }

            stream.Position = 0;
            var tokens = new JsonTokenStream(stream, source);
            tokens.Read();
            if (scan.CasesSeen == 0)
            {
                isList = false;
                return [new Entry(Build(ReadFields(tokens, source, scan), source), null)];
            }

            isList = true;
            var entries = new List<Entry>();
            int seen = 0;
            while (tokens.Read() && tokens.TokenType == JsonTokenType.PropertyName)
            {
                bool isCases = tokens.ValueEquals("cases"u8);
                tokens.Read();
                if (!isCases || ++seen < scan.CasesSeen)
                {
                    tokens.SkipValue(); // as JsonElement does, the last "cases" counts
                    continue;
                }

                int i = 0;
                while (tokens.Read() && tokens.TokenType != JsonTokenType.EndArray)
                {
                    string where = $"{source}: cases[{i++}]";
                    if (tokens.TokenType != JsonTokenType.StartObject)
                    {
                        tokens.SkipValue();
                        entries.Add(new Entry(null, $"{where}: expected a case object."));
                        continue;
                    }

                    RawCase raw = ReadFields(tokens, where, scan);
                    try
                    {
                        entries.Add(new Entry(Build(raw, where), null));
                    }
                    catch (InputException e)
                    {
                        entries.Add(new Entry(null, e.Message));
                    }
                }
            }

            return entries;
        }
        catch (JsonException e)
        {
            long line = (e.LineNumber ?? 0) + 1;
            long column = (e.BytePositionInLine ?? 0) + 1;
            throw new InputException($"{source}:{line}:{column}: malformed JSON: {FirstSentence(e.Message)}", e);
        }
    }

    /// <summary>What the first pass learns: the root's kind, the "cases" properties, and the leaf count of every array field.</summary>
    private sealed class Scan
    {
        private readonly List<long> _offsets = [];
        private readonly List<long> _leaves = [];
        private int _cursor;

        public JsonTokenType Root { get; set; }

        public int CasesSeen { get; set; }

        public bool LastCasesIsArray { get; set; }

        public void Add(long offset, long leaves)
        {
            _offsets.Add(offset);
            _leaves.Add(leaves);
        }

        /// <summary>The leaf count of the array at <paramref name="offset"/>; the second pass asks in increasing order.</summary>
        public long Leaves(long offset)
        {
            while (_cursor < _offsets.Count && _offsets[_cursor] < offset)
            {
                _cursor++;
            }

            return _cursor < _offsets.Count && _offsets[_cursor] == offset ? _leaves[_cursor] : 0;
        }
    }

    /// <summary>The first pass: checks the whole document's syntax and counts the values of the case-level arrays.</summary>
    private static Scan ScanDocument(Stream stream, string source)
    {
        var tokens = new JsonTokenStream(stream, source);
        var scan = new Scan();
        if (!tokens.Read())
        {
            throw new JsonException("The file holds no JSON value.", null, 0, 0);
        }

        scan.Root = tokens.TokenType;
        if (tokens.TokenType == JsonTokenType.StartObject)
        {
            while (tokens.Read() && tokens.TokenType == JsonTokenType.PropertyName)
            {
                bool isCases = tokens.ValueEquals("cases"u8);
                Field field = Match(tokens);
                tokens.Read();
                if (isCases)
                {
                    scan.CasesSeen++;
                    scan.LastCasesIsArray = tokens.TokenType == JsonTokenType.StartArray;
                    if (scan.LastCasesIsArray)
                    {
                        while (tokens.Read() && tokens.TokenType != JsonTokenType.EndArray)
                        {
                            if (tokens.TokenType == JsonTokenType.StartObject)
                            {
                                ScanCase(tokens, scan);
                            }
                            else
                            {
                                tokens.SkipValue();
                            }
                        }
                    }
                    else
                    {
                        tokens.SkipValue();
                    }
                }
                else
                {
                    ScanField(tokens, field, scan);
                }
            }
        }
        else
        {
            tokens.SkipValue();
        }

        while (tokens.Read())
        {
            // The reader throws on anything after the root value.
        }

        return scan;
    }

    private static void ScanCase(JsonTokenStream tokens, Scan scan)
    {
        while (tokens.Read() && tokens.TokenType == JsonTokenType.PropertyName)
        {
            Field field = Match(tokens);
            tokens.Read();
            ScanField(tokens, field, scan);
        }
    }

    private static void ScanField(JsonTokenStream tokens, Field field, Scan scan)
    {
        if (IsArray(field) && tokens.TokenType == JsonTokenType.StartArray)
        {
            scan.Add(tokens.TokenOffset, NestedArray.CountLeaves(tokens));
        }
        else
        {
            tokens.SkipValue();
        }
    }

    /// <summary>The fields a case may have; others are skipped.</summary>
    private enum Field
    {
        Unknown = -1,
        Function,
        Loss,
        DType,
        Input,
        Target,
        TargetDType,
        Name,
        Weight,
        PosWeight,
        IgnoreIndex,
        Reduction,
        LabelSmoothing,
        InputShape,
        TargetShape,
        ClassCounts,
        Gamma,
        Alpha,
        Tau,
        MaxMargin,
        Scale,
        Q,
        Beta,
        A,
        Epsilon,
        ZLoss,
    }

    private static readonly string[] s_fieldNames =
        ["function", "loss", "dtype", "input", "target", "target_dtype", "name", "weight", "pos_weight", "ignore_index", "reduction", "label_smoothing", "input_shape", "target_shape",
         "class_counts", "gamma", "alpha", "tau", "max_margin", "scale", "q", "beta", "a", "epsilon", "z_loss"];

    private static readonly byte[][] s_fieldBytes = [.. s_fieldNames.Select(Encoding.UTF8.GetBytes)];

    private static bool IsArray(Field f) => f is Field.Input or Field.Target or Field.Weight or Field.PosWeight or Field.InputShape or Field.TargetShape or Field.ClassCounts;

    /// <summary>The case fields that are parameters of a catalog loss, by the loss's key (max_margin → max-margin).</summary>
    private static readonly (Field Field, string Key)[] s_lossParameters =
        [(Field.Gamma, "gamma"), (Field.Alpha, "alpha"), (Field.Tau, "tau"), (Field.MaxMargin, "max-margin"), (Field.Scale, "scale"), (Field.Q, "q"), (Field.Beta, "beta"), (Field.A, "a"), (Field.Epsilon, "epsilon")];

    private static Field Match(JsonTokenStream tokens)
    {
        if (tokens.ValueSpan.Length > 16 && !tokens.ValueIsEscaped)
        {
            return Field.Unknown;
        }

        for (int i = 0; i < s_fieldBytes.Length; i++)
        {
            if (tokens.ValueEquals(s_fieldBytes[i]))
            {
                return (Field)i;
            }
        }

        return Field.Unknown;
    }

    /// <summary>One field's value as read, or why it could not be read (reported when the field is used, in order).</summary>
    private sealed class RawField
    {
        public JsonTokenType Type { get; init; }

        /// <summary>A string's value.</summary>
        public string? Text { get; init; }

        /// <summary>The value as a message shows it.</summary>
        public string Raw { get; init; } = "";

        public double Number { get; init; }

        public int? Int32 { get; init; }

        public NestedArray? Array { get; init; }

        public InputException? Error { get; init; }
    }

    /// <summary>A case object's known fields; a later duplicate replaces an earlier one, as in JsonElement.</summary>
    private sealed class RawCase
    {
        public RawField?[] Fields { get; } = new RawField?[s_fieldNames.Length];

        public RawField? this[Field f] => Fields[(int)f];
    }

    /// <summary>The second pass over one case object (the stream is on its start); leaves the stream on its end.</summary>
    private static RawCase ReadFields(JsonTokenStream tokens, string where, Scan scan)
    {
        var raw = new RawCase();
        while (tokens.Read() && tokens.TokenType == JsonTokenType.PropertyName)
        {
            Field field = Match(tokens);
            tokens.Read();
            if (field == Field.Unknown)
            {
                tokens.SkipValue();
                continue;
            }

            int f = (int)field;
            if (tokens.TokenType == JsonTokenType.Null)
            {
                raw.Fields[f] = null; // null means absent
                continue;
            }

            if (IsArray(field))
            {
                long leaves = tokens.TokenType == JsonTokenType.StartArray ? scan.Leaves(tokens.TokenOffset) : 1;
                NestedArray? array = NestedArray.Parse(tokens, $"{where}.{s_fieldNames[f]}", leaves, out InputException? error);
                raw.Fields[f] = new RawField { Type = tokens.TokenType, Array = array, Error = error };
                continue;
            }

            raw.Fields[f] = tokens.TokenType switch
            {
                JsonTokenType.String => new RawField { Type = JsonTokenType.String, Text = tokens.GetString(), Raw = $"\"{NestedArray.Shorten(tokens.GetString())}\"" },
                JsonTokenType.Number => ReadScalarNumber(tokens),
                JsonTokenType.True => new RawField { Type = JsonTokenType.True, Raw = "true" },
                JsonTokenType.False => new RawField { Type = JsonTokenType.False, Raw = "false" },
                _ => new RawField { Type = tokens.TokenType, Raw = NestedArray.Describe(tokens) },
            };
        }

        return raw;
    }

    private static RawField ReadScalarNumber(JsonTokenStream tokens)
    {
        ReadOnlySpan<byte> span = tokens.ValueSpan;
        _ = double.TryParse(span, NumberStyles.Float, CultureInfo.InvariantCulture, out double number);
        return new RawField
        {
            Type = JsonTokenType.Number,
            Raw = NestedArray.Shorten(Encoding.UTF8.GetString(span)),
            Number = number,
            Int32 = int.TryParse(span, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i) ? i : null,
        };
    }

    /// <summary>Builds a case from its fields, checking them in a fixed order.</summary>
    private static LossCase Build(RawCase c, string where)
    {
        CaseLoss loss = CaseLoss.CrossEntropy;
        string? lossName = OptionalString(c, Field.Function, where);
        if (lossName is null && c[Field.Loss] is { Type: JsonTokenType.String, Text: { } lossText })
        {
            // In golden files "loss" is the expected number; only a string names the loss ("function" also does).
            lossName = lossText switch
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
                var s when LossCatalog.Entries.Any(e => e.Name == s.Replace('_', '-')) => CaseLoss.Catalog,
                var s => throw new InputException($"{where}: unknown loss \"{NestedArray.Shorten(s)}\"; expected cross_entropy, nll, bce_with_logits, soft_cross_entropy or one of {string.Join(", ", LossCatalog.Entries.Select(e => e.Name.Replace('-', '_')).Where(n => n != "cross_entropy"))}."),
            };
        }

        string? spec = null;
        if (loss == CaseLoss.Catalog)
        {
            var parameters = new List<string>();
            foreach ((Field field, string key) in s_lossParameters)
            {
                if (c[field] is { } v)
                {
                    parameters.Add(v.Type == JsonTokenType.Number ? $"{key}={v.Number.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}" : throw new InputException($"{where}.{key.Replace('-', '_')}: expected a number, got {v.Raw}."));
                }
            }

            spec = lossName!.Replace('_', '-') + (parameters.Count > 0 ? ":" + string.Join(",", parameters) : string.Empty);
            try
            {
                LossCatalog.Check(spec);
            }
            catch (FormatException e)
            {
                throw new InputException($"{where}: {e.Message.Replace("--loss ", string.Empty, StringComparison.Ordinal)}", e);
            }
        }

        CaseDType dtype = OptionalString(c, Field.DType, where) switch
        {
            null or "float32" or "float" => CaseDType.Float32,
            "float64" or "double" => CaseDType.Float64,
            var s => throw new InputException($"{where}.dtype: unknown dtype \"{NestedArray.Shorten(s)}\"; expected float32 or float64."),
        };

        NestedArray input = WithShape(c, Field.Input, Required(c, Field.Input, where), where);
        NestedArray target = WithShape(c, Field.Target, Required(c, Field.Target, where), where);
        bool targetIsIndex = loss switch
        {
            CaseLoss.Nll or CaseLoss.SoftCrossEntropy or CaseLoss.Catalog => true,
            CaseLoss.BinaryCrossEntropyWithLogits => false,
            _ => OptionalString(c, Field.TargetDType, where) switch
            {
                null => target.AllIntegers,
                "int64" or "int32" or "long" or "int" or "uint8" => true,
                "float32" or "float64" or "float" or "double" => false,
                var s => throw new InputException($"{where}.target_dtype: unknown dtype \"{NestedArray.Shorten(s)}\"; expected int64, float32 or float64."),
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
            Name = OptionalString(c, Field.Name, where),
            Loss = loss,
            DType = dtype,
            Input = input,
            Target = target,
            TargetIsIndex = targetIsIndex,
            Weight = Optional(c, Field.Weight),
            PosWeight = Optional(c, Field.PosWeight),
            IgnoreIndex = c[Field.IgnoreIndex] is { } ii
                ? (ii.Type == JsonTokenType.Number && ii.Int32 is int ignore ? ignore : throw new InputException($"{where}.ignore_index: expected an integer, got {ii.Raw}."))
                : -100,
            Reduction = OptionalString(c, Field.Reduction, where) is { } r ? ParseReduction(r, where) : Reduction.Mean,
            LossSpec = spec,
            ClassCounts = Optional(c, Field.ClassCounts) is { } counts ? [.. counts.Values.Select(v => v == Math.Floor(v) && v > 0 && v <= int.MaxValue ? (int)v : throw new InputException($"{where}.class_counts: expected positive integers, got {v}."))] : null,
            ZLoss = c[Field.ZLoss] is { } z
                ? (z.Type == JsonTokenType.Number && z.Number >= 0 ? (spec is not null || z.Number == 0 ? z.Number : throw new InputException($"{where}.z_loss: applies to the losses beyond PyTorch's (focal, logit_adjusted, …); cross_entropy, nll, bce_with_logits and soft_cross_entropy follow PyTorch here, which has no z-loss.")) : throw new InputException($"{where}.z_loss: expected a number ≥ 0, got {z.Raw}."))
                : 0,
            LabelSmoothing = c[Field.LabelSmoothing] is { } ls
                ? (ls.Type == JsonTokenType.Number ? ls.Number : throw new InputException($"{where}.label_smoothing: expected a number, got {ls.Raw}."))
                : 0.0,
        };
    }

    /// <summary>
    /// Applies an optional "&lt;name&gt;_shape" field: nested arrays cannot show a dimension after a 0 (an empty
    /// (0, 4) batch is written []), so the shape may be given explicitly; it must agree with the values.
    /// </summary>
    private static NestedArray WithShape(RawCase c, Field field, NestedArray array, string where)
    {
        string name = s_fieldNames[(int)field];
        if (Optional(c, field == Field.Input ? Field.InputShape : Field.TargetShape) is not { } shape)
        {
            return array;
        }

        if (shape.Shape.Length != 1 || !shape.AllIntegers || shape.Values.Any(v => v < 0))
        {
            throw new InputException($"{where}.{name}_shape: expected a list of non-negative integers.");
        }

        nint[] lengths = [.. shape.Values.Select(v => (nint)v)];
        long count = 1;
        foreach (nint length in lengths)
        {
            count = length == 0 || count == 0 ? 0 : count > long.MaxValue / length ? long.MaxValue : count * length;
        }

        if (count != array.Values.Length)
        {
            throw new InputException($"{where}.{name}_shape: {NestedArray.FormatShape(lengths)} holds {(count == long.MaxValue ? "more than 2^63" : count)} elements but {name} has {array.Values.Length}.");
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

    private static NestedArray Required(RawCase c, Field field, string where)
        => c[field] is { } f
            ? f.Array ?? throw f.Error!
            : throw new InputException($"{where}: missing required field \"{s_fieldNames[(int)field]}\".");

    private static NestedArray? Optional(RawCase c, Field field)
        => c[field] is { } f ? f.Array ?? throw f.Error! : null;

    private static string? OptionalString(RawCase c, Field field, string where)
    {
        if (c[field] is not { } f)
        {
            return null;
        }

        return f.Type == JsonTokenType.String ? f.Text : throw new InputException($"{where}.{s_fieldNames[(int)field]}: expected a string, got {f.Raw}.");
    }

    /// <summary>The first line of an exception message (the CLI prints one line).</summary>
    public static string FirstSentence(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}
