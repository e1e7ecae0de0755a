using System.Buffers.Binary;
using System.IO.Compression;

namespace Xent.Data;

/// <summary>An array read from an IDX file: its dimensions and its unsigned bytes, row-major.</summary>
/// <param name="Dimensions">For example [60000, 28, 28].</param>
/// <param name="Values">The values.</param>
public sealed record IdxArray(int[] Dimensions, byte[] Values);

/// <summary>
/// Reads the IDX format of MNIST and Fashion-MNIST, plain or gzip-compressed: two zero bytes, a type byte (0x08,
/// unsigned bytes, is the one Xent reads), the number of dimensions, each dimension as a big-endian 32-bit integer,
/// then the values. Every check names the file: the magic, the type, the dimensions, and a length that must match
/// them exactly (a truncated download or trailing bytes are errors).
/// </summary>
public static class IdxReader
{
    /// <summary>Fashion-MNIST's class names, label 0 to 9.</summary>
    public static readonly IReadOnlyList<string> FashionMnistClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Reads a file of unsigned bytes.</summary>
    /// <param name="path">The file (<c>.gz</c> or not: gzip is recognised by its magic bytes).</param>
    /// <returns>The array.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DataFormatException">The file is not a well-formed IDX file of unsigned bytes; the message names the file and the problem.</exception>
    public static IdxArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        using FileStream file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[2];
        int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        file.Position = 0;
        bool gzip = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Read(stream, path);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, 0, 0, $"the gzip data are corrupt ({e.Message}).");
        }
    }

    private static IdxArray Read(Stream stream, string path)
    {
        Span<byte> header = stackalloc byte[4];
        if (stream.ReadAtLeast(header, 4, throwOnEndOfStream: false) < 4)
        {
            throw new DataFormatException(path, 0, 0, "not an IDX file: shorter than the 4-byte magic number.");
        }

        if (header[0] != 0 || header[1] != 0)
        {
            throw new DataFormatException(path, 0, 0, $"not an IDX file: the magic number starts {header[0]:x2} {header[1]:x2}, not 00 00.");
        }

        if (header[2] != 0x08)
        {
            throw new DataFormatException(path, 0, 0, $"the IDX type is 0x{header[2]:x2}; Xent reads unsigned bytes (0x08), the type of MNIST-style images and labels.");
        }

        int rank = header[3];
        if (rank is < 1 or > 4)
        {
            throw new DataFormatException(path, 0, 0, $"the IDX header declares {rank} dimensions; Xent reads 1 to 4.");
        }

        var dims = new int[rank];
        Span<byte> dim = stackalloc byte[4];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            if (stream.ReadAtLeast(dim, 4, throwOnEndOfStream: false) < 4)
            {
                throw new DataFormatException(path, 0, 0, $"truncated: the header ends inside dimension {i + 1} of {rank}.");
            }

            int d = BinaryPrimitives.ReadInt32BigEndian(dim);
            if (d < 0)
            {
                throw new DataFormatException(path, 0, 0, $"dimension {i + 1} is {d}; sizes cannot be negative.");
            }

            dims[i] = d;
            count *= d;
            if (count > Array.MaxLength)
            {
                throw new DataFormatException(path, 0, 0, $"the dimensions [{string.Join(", ", dims[..(i + 1)])}…] hold more values than an array can ({Array.MaxLength}).");
            }
        }

        var values = new byte[count];
        int read = stream.ReadAtLeast(values, values.Length, throwOnEndOfStream: false);
        if (read < values.Length)
        {
            throw new DataFormatException(path, 0, 0, $"truncated: the header declares [{string.Join(", ", dims)}] = {count} values but the file holds {read}.");
        }

        Span<byte> extra = stackalloc byte[1];
        if (stream.Read(extra) > 0)
        {
            throw new DataFormatException(path, 0, 0, $"the file holds more bytes than the {count} values its header declares ([{string.Join(", ", dims)}]).");
        }

        return new IdxArray(dims, values);
    }

    /// <summary>
    /// Reads an image file ([N, H, W] or [N, C, H, W]) and its label file ([N]) into a table of numeric pixel columns
    /// <c>pixel0</c>… in NCHW order, scaled to [0, 1] (value ÷ 255): <see cref="PixelColumn"/>s over the file's bytes.
    /// </summary>
    /// <param name="imagesPath">The images.</param>
    /// <param name="labelsPath">The labels, or <see langword="null"/> for images without labels (each gets class 0: images to predict).</param>
    /// <param name="classNames">The class names by label, or <see langword="null"/> for "0", "1"… up to the largest label.</param>
    /// <param name="shape">The shape of one image: (C, H, W).</param>
    /// <returns>The table.</returns>
    /// <exception cref="DataFormatException">A file is malformed, the counts differ, or a label has no class name.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public static DataTable ReadImages(string imagesPath, string? labelsPath, IReadOnlyList<string>? classNames, out int[] shape)
    {
        IdxArray images = Read(imagesPath);
        // Without a labels file (images to predict), every image gets class 0.
        bool unlabelled = labelsPath is null;
        IdxArray labels = unlabelled ? new IdxArray([images.Dimensions.Length > 0 ? images.Dimensions[0] : 0], new byte[images.Dimensions.Length > 0 ? images.Dimensions[0] : 0]) : Read(labelsPath!);
        labelsPath ??= imagesPath;
        if (images.Dimensions.Length is not (3 or 4))
        {
            throw new DataFormatException(imagesPath, 0, 0, $"images need dimensions [N, H, W] or [N, C, H, W]; the file has [{string.Join(", ", images.Dimensions)}].");
        }

        if (labels.Dimensions.Length != 1)
        {
            throw new DataFormatException(labelsPath, 0, 0, $"labels need one dimension [N]; the file has [{string.Join(", ", labels.Dimensions)}].");
        }

        int n = images.Dimensions[0];
        if (labels.Dimensions[0] != n)
        {
            throw new DataFormatException(labelsPath, 0, 0, $"{labels.Dimensions[0]} labels for the {n} images of {Path.GetFileName(imagesPath)}.");
        }

        shape = images.Dimensions.Length == 3 ? [1, images.Dimensions[1], images.Dimensions[2]] : images.Dimensions[1..];
        int d = shape[0] * shape[1] * shape[2];
        if (d == 0 || n == 0)
        {
            throw new DataFormatException(imagesPath, 0, 0, $"no images: the dimensions are [{string.Join(", ", images.Dimensions)}].");
        }

        int classes = classNames?.Count ?? (unlabelled ? 2 : labels.Values.Max() + 1);
        var y = new int[n];
        for (int i = 0; i < n; i++)
        {
            y[i] = labels.Values[i];
            if (y[i] >= classes)
            {
                throw new DataFormatException(labelsPath, 0, 0, $"label {y[i]} of image {i} has no class name (there are {classes} classes).");
            }
        }

        // The pixels stay bytes: each column views one place of every image in the file's buffer.
        var columns = new FeatureColumn[d];
        for (int j = 0; j < d; j++)
        {
            columns[j] = new PixelColumn("pixel" + j.ToString(System.Globalization.CultureInfo.InvariantCulture), images.Values, j, d, n);
        }

        IReadOnlyList<string> names = classNames ?? [.. Enumerable.Range(0, classes).Select(c => c.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        return new DataTable(columns, y, names);
    }

    /// <summary>
    /// What an IDX file holds, from its first four bytes (gzip or plain): 3 or 4 for images (ubyte, [N, H, W] or
    /// [N, C, H, W]), 1 for labels, 0 when the file is not IDX of unsigned bytes or cannot be read.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>The number of dimensions, or 0.</returns>
    public static int Sniff(string path)
    {
        try
        {
            using FileStream file = File.OpenRead(path);
            Span<byte> head = stackalloc byte[4];
            if (file.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
            {
                return 0;
            }

            if (head[0] == 0x1f && head[1] == 0x8b)
            {
                file.Position = 0;
                using var gzip = new GZipStream(file, CompressionMode.Decompress);
                if (gzip.ReadAtLeast(head, 4, throwOnEndOfStream: false) < 4)
                {
                    return 0;
                }
            }

            return head[0] == 0 && head[1] == 0 && head[2] == 0x08 && head[3] is 1 or 3 or 4 ? head[3] : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return 0;
        }
    }
}
