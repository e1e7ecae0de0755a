using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Xent.Nn;

/// <summary>A float32 tensor read from or written to a safetensors file.</summary>
/// <param name="Shape">Its shape.</param>
/// <param name="Values">Its values, row-major.</param>
public sealed record NamedTensor(int[] Shape, float[] Values)
{
    /// <summary>
    /// How the values are stored in the file: <c>F32</c> (the default), or <c>I64</c> for integer state such as
    /// BatchNorm's <c>num_batches_tracked</c>, which PyTorch saves as int64 (values are rounded to integers on writing).
    /// When read, the file's dtype.
    /// </summary>
    public string DType { get; init; } = "F32";
}

/// <summary>The contents of a safetensors file: float32 tensors by name, and string metadata.</summary>
/// <param name="Tensors">The tensors, in file order.</param>
/// <param name="Metadata">The <c>__metadata__</c> strings.</param>
public sealed record SafetensorsFile(IReadOnlyDictionary<string, NamedTensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (<c>{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}</c>),
/// then the raw little-endian tensor bytes. Xent writes F32 (and I64 for integer state) and reads F32, F64 and I64
/// (converted to float).
/// </summary>
public static class Safetensors
{
    /// <summary>The largest header Xent accepts (100 MB), so a corrupt length cannot cause a huge allocation.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes a file atomically: a temporary file beside it, then a rename.</summary>
    /// <param name="path">The file.</param>
    /// <param name="tensors">Tensors by name, written in this order.</param>
    /// <param name="metadata">Metadata strings.</param>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NamedTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach ((string key, string value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach ((string name, NamedTensor t) in list)
            {
                if (t.DType is not ("F32" or "I64"))
                {
                    throw new ArgumentException($"Tensor '{name}': dtype {t.DType}; Xent writes F32 and I64.", nameof(tensors));
                }

                int width = t.DType == "I64" ? 8 : 4;
                long count = t.Shape.Aggregate(1L, (a, b) => a * b);
                if (count != t.Values.Length)
                {
                    throw new ArgumentException($"Tensor '{name}': shape [{string.Join(", ", t.Shape)}] holds {count} values, not {t.Values.Length}.", nameof(tensors));
                }

                json.WriteStartObject(name);
                json.WriteString("dtype", t.DType);
                json.WriteStartArray("shape");
                foreach (int d in t.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + (count * width));
                json.WriteEndArray();
                json.WriteEndObject();
                offset += count * width;
            }

            json.WriteEndObject();
        }

        // Pad the header with spaces to a multiple of 8, as the reference writer does.
        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }

        string temp = path + ".tmp-" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
                file.Write(length);
                header.Position = 0;
                header.CopyTo(file);
                foreach ((_, NamedTensor t) in list)
                {
                    if (t.DType == "I64")
                    {
                        var b = new byte[8];
                        foreach (float v in t.Values)
                        {
                            BinaryPrimitives.WriteInt64LittleEndian(b, (long)MathF.Round(v));
                            file.Write(b);
                        }
                    }
                    else if (BitConverter.IsLittleEndian)
                    {
                        file.Write(MemoryMarshal.AsBytes(t.Values.AsSpan()));
                    }
                    else
                    {
                        var b = new byte[4];
                        foreach (float v in t.Values)
                        {
                            BinaryPrimitives.WriteSingleLittleEndian(b, v);
                            file.Write(b);
                        }
                    }
                }

                file.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <summary>Reads a file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its tensors and metadata.</returns>
    /// <exception cref="InvalidDataException">The file is truncated or corrupt; the message says how.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        string name = Path.GetFileName(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (!file.CanSeek)
        {
            throw new InvalidDataException($"{name}: not a safetensors file: not a regular file.");
        }

        long length = file.Length;
        if (length < 8)
        {
            throw new InvalidDataException($"{name}: not a safetensors file: {length} bytes, fewer than the 8-byte header length.");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        file.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > length - 8)
        {
            // Text (a CSV passed as the model, say) reads as an absurd length: say what the file looks like instead.
            bool text = lengthBytes.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E) < 0;
            throw new InvalidDataException(text
                ? $"{name}: not a safetensors model file: it starts with text ('{System.Text.Encoding.ASCII.GetString(lengthBytes)}…'), where a model file starts with the length of its header. Pass the model.safetensors that train wrote."
                : $"{name}: not a safetensors model file, or corrupt or truncated: the header claims {headerLength} bytes but the file has {length - 8} after the length field (limit {MaxHeaderBytes}).");
        }

        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{name}: corrupt header: not valid JSON ({e.Message.Split('\n')[0]}).", e);
        }

        using (doc)
        {
            try
            {
                return ReadEntries(doc, file, name, headerLength, length - 8 - (long)headerLength);
            }
            catch (InvalidOperationException e)
            {
                // For example a name or value that is not valid UTF-8.
                throw new InvalidDataException($"{name}: corrupt header: {e.Message}", e);
            }
        }
    }

    private static SafetensorsFile ReadEntries(JsonDocument doc, FileStream file, string name, ulong headerLength, long dataLength)
    {
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{name}: corrupt header: expected a JSON object.");
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<(string Name, string DType, int[] Shape, long Count, long Begin, long End)>();
        foreach (JsonProperty p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__")
            {
                if (p.Value.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{name}: corrupt header: __metadata__ must be an object of strings.");
                }

                foreach (JsonProperty m in p.Value.EnumerateObject())
                {
                    metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String ? m.Value.GetString()! : throw new InvalidDataException($"{name}: metadata '{m.Name}' is not a string.");
                }

                continue;
            }

            entries.Add(ParseEntry(name, p));
        }

        var tensors = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (!seen.Add(e.Name))
            {
                throw new InvalidDataException($"{name}: corrupt header: tensor '{e.Name}' appears twice.");
            }
        }

        long previousEnd = 0;
        string previous = "";
        byte[]? chunk = null;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin < previousEnd)
            {
                throw new InvalidDataException($"{name}: corrupt header: tensors '{previous}' and '{e.Name}' overlap.");
            }

            previousEnd = e.End;
            previous = e.Name;
            int size = e.DType is "F64" or "I64" ? 8 : 4;
            if (e.End > dataLength || e.Begin < 0 || e.End < e.Begin)
            {
                throw new InvalidDataException($"{name}: tensor '{e.Name}' lies at bytes [{e.Begin}, {e.End}) but the data section has {dataLength} bytes (truncated file?).");
            }

            // The count was computed with checked arithmetic (ParseEntry), and the offsets lie inside the file, so
            // the allocation below is never larger than the file.
            if (e.Count > (e.End - e.Begin) / size || e.End - e.Begin != e.Count * size)
            {
                throw new InvalidDataException($"{name}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}] ({e.Count} × {size} bytes) but its offsets span {e.End - e.Begin} bytes.");
            }

            if (e.Count > Array.MaxLength)
            {
                throw new InvalidDataException($"{name}: tensor '{e.Name}' has {e.Count} values, more than Xent can hold in one tensor.");
            }

            var values = new float[e.Count];
            file.Position = 8 + (long)headerLength + e.Begin;
            if (size == 4 && BitConverter.IsLittleEndian)
            {
                file.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else
            {
                chunk ??= new byte[1 << 16];
                long done = 0;
                while (done < e.Count)
                {
                    int n = (int)Math.Min(e.Count - done, chunk.Length / size);
                    Span<byte> bytes = chunk.AsSpan(0, n * size);
                    file.ReadExactly(bytes);
                    for (int i = 0; i < n; i++)
                    {
                        values[done + i] = e.DType switch
                        {
                            "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(i * 8, 8)),
                            "I64" => BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(i * 8, 8)),
                            _ => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4)),
                        };
                    }

                    done += n;
                }
            }

            tensors[e.Name] = new NamedTensor(e.Shape, values) { DType = e.DType == "I64" ? "I64" : "F32" };
        }

        return new SafetensorsFile(tensors, metadata);
    }

    private static (string, string, int[], long, long, long) ParseEntry(string file, JsonProperty p)
    {
        JsonElement v = p.Value;
        if (v.ValueKind != JsonValueKind.Object
            || !v.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind != JsonValueKind.String
            || !v.TryGetProperty("shape", out JsonElement shape) || shape.ValueKind != JsonValueKind.Array
            || !v.TryGetProperty("data_offsets", out JsonElement offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw new InvalidDataException($"{file}: corrupt header: tensor '{p.Name}' needs dtype, shape and data_offsets [begin, end].");
        }

        string type = dtype.GetString()!;
        if (type is not ("F32" or "F64" or "I64"))
        {
            throw new InvalidDataException($"{file}: tensor '{p.Name}' has dtype {Shorten(type)}; Xent reads F32, F64 and I64.");
        }

        var dims = new int[shape.GetArrayLength()];
        int i = 0;
        foreach (JsonElement d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out dims[i]) || dims[i] < 0)
            {
                throw new InvalidDataException($"{file}: tensor '{p.Name}' has an invalid shape {Shorten(shape.GetRawText())}.");
            }

            i++;
        }

        long count = 1;
        try
        {
            foreach (int d in dims)
            {
                count = checked(count * d);
            }

            _ = checked(count * 8);
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{file}: tensor '{p.Name}' has shape {Shorten(shape.GetRawText())}, whose size overflows 64 bits.");
        }

        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
        {
            throw new InvalidDataException($"{file}: tensor '{p.Name}' has invalid data_offsets {Shorten(offsets.GetRawText())}.");
        }

        return (p.Name, type, dims, count, begin, end);
    }

    /// <summary>Cuts header text quoted in a message to 80 characters.</summary>
    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
