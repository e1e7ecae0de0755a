using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Security.Cryptography;

namespace Xent.Data;

/// <summary>
/// The training split of an image table, encoded as each row is read rather than all at once: the table's
/// <see cref="PixelColumn"/>s stay bytes (47 MB for Fashion-MNIST's 60,000 images, where the encoded floats would
/// take 188 MB), and <see cref="CopyRow"/> converts a row's bytes to floats, ÷ 255, then (x − mean) ÷ scale per
/// pixel. Each row holds the bits <see cref="Preprocessor.Transform"/> gives it, and <see cref="ContentHash"/> is
/// <see cref="Dataset.ContentHash"/>'s digest of those rows.
/// </summary>
internal sealed class EncodedRows : ITrainingRows
{
    private readonly byte[] _pixels;
    private readonly int _stride;
    private readonly int[] _rows;
    private readonly float[]? _means;
    private readonly float[]? _scales;
    private string? _contentHash;
    private readonly Preprocessor _preprocessor;
    private readonly DataTable _table;

    private EncodedRows(Preprocessor preprocessor, DataTable table, int[] rows, byte[] pixels, int stride, float[]? means, float[]? scales)
    {
        (_preprocessor, _table, _rows, _pixels, _stride, _means, _scales) = (preprocessor, table, rows, pixels, stride, means, scales);
        Labels = [.. rows.Select(r => table.Labels[r])];
    }

    /// <inheritdoc />
    public int Count => _rows.Length;

    /// <inheritdoc />
    public int FeatureCount => _stride;

    /// <inheritdoc />
    public int ClassCount => _table.ClassCount;

    /// <inheritdoc />
    public int[] Labels { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> FeatureNames => _preprocessor.OutputNames;

    /// <inheritdoc />
    public IReadOnlyList<string> ClassNames => _table.ClassNames;

    /// <summary>
    /// The rows of an image table, when every column is a <see cref="PixelColumn"/> of one buffer in image order
    /// (pixel j at offset j) and every encoder is numeric without a missing-value indicator; else <see langword="null"/>,
    /// and the caller encodes the rows with <see cref="Preprocessor.Transform"/>.
    /// </summary>
    /// <param name="preprocessor">The preprocessor, fitted on the training rows.</param>
    /// <param name="table">The table.</param>
    /// <param name="rows">The training rows of the table, in split order.</param>
    /// <returns>The rows, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentException">The table's columns are not the preprocessor's.</exception>
    public static EncodedRows? ForImages(Preprocessor preprocessor, DataTable table, int[] rows)
    {
        ArgumentNullException.ThrowIfNull(preprocessor);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(rows);
        preprocessor.CheckColumns(table);
        int d = table.Columns.Count;
        if (d == 0 || table.Columns[0] is not PixelColumn { Stride: var stride } first || stride != d)
        {
            return null;
        }

        var means = new float[d];
        var scales = new float[d];
        bool standardized = false;
        for (int j = 0; j < d; j++)
        {
            if (table.Columns[j] is not PixelColumn p || p.Pixels != first.Pixels || p.Offset != j || p.Stride != d
                || preprocessor.Columns[j] is not NumericEncoder { Indicator: false } e)
            {
                return null;
            }

            (means[j], scales[j]) = (e.Mean, e.Scale);
            standardized |= e.Mean != 0 || e.Scale != 1;
        }

        return new EncodedRows(preprocessor, table, rows, first.Pixels, d, standardized ? means : null, standardized ? scales : null);
    }

    /// <inheritdoc />
    public void CopyRow(int row, Span<float> destination)
    {
        int d = _stride;
        ReadOnlySpan<byte> pixels = _pixels.AsSpan((int)((long)_rows[row] * d), d);
        destination = destination[..d];
        Widen(pixels, destination);

        // The operations of NumericEncoder.Encode, one at a time, so that every value has its bits: v = b / 255, then (v − mean) / scale.
        TensorPrimitives.Divide(destination, 255f, destination);
        if (_means is not null)
        {
            TensorPrimitives.Subtract(destination, _means, destination);
            TensorPrimitives.Divide(destination, _scales!, destination);
        }
    }

    /// <inheritdoc />
    public string ContentHash()
    {
        if (_contentHash is null)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            const int chunkRows = 1024;
            var chunk = new float[Math.Min(Count, chunkRows) * _stride];
            for (int start = 0; start < Count; start += chunkRows)
            {
                int m = Math.Min(chunkRows, Count - start);
                for (int i = 0; i < m; i++)
                {
                    CopyRow(start + i, chunk.AsSpan(i * _stride, _stride));
                }

                hash.AppendData(MemoryMarshal.AsBytes(chunk.AsSpan(0, m * _stride)));
            }

            _contentHash = Dataset.FinishContentHash(hash, Labels, FeatureNames, ClassNames);
        }

        return _contentHash;
    }

    /// <summary>The rows as a <see cref="Dataset"/> (all of them encoded at once: 4 bytes a feature).</summary>
    /// <returns>The dataset.</returns>
    public Dataset Materialize() => _preprocessor.Transform(_table, _rows).Data;

    /// <summary>Bytes to floats, exactly.</summary>
    private static void Widen(ReadOnlySpan<byte> source, Span<float> destination)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + Vector256<byte>.Count <= source.Length; j += Vector256<byte>.Count)
            {
                (Vector256<ushort> lo, Vector256<ushort> hi) = Vector256.Widen(Vector256.Create(source.Slice(j, Vector256<byte>.Count)));
                (Vector256<uint> a, Vector256<uint> b) = Vector256.Widen(lo);
                (Vector256<uint> c, Vector256<uint> e) = Vector256.Widen(hi);
                Span<float> to = destination.Slice(j, Vector256<byte>.Count);
                Vector256.ConvertToSingle(a.AsInt32()).CopyTo(to);
                Vector256.ConvertToSingle(b.AsInt32()).CopyTo(to[8..]);
                Vector256.ConvertToSingle(c.AsInt32()).CopyTo(to[16..]);
                Vector256.ConvertToSingle(e.AsInt32()).CopyTo(to[24..]);
            }
        }

        for (; j < source.Length; j++)
        {
            destination[j] = source[j];
        }
    }
}
