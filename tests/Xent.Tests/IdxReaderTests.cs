using System.Buffers.Binary;
using System.IO.Compression;
using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;

namespace Xent.Tests;

/// <summary>The IDX reader on small synthetic files, plain and gzip, and malformed ones; Fashion-MNIST when installed.</summary>
public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] Idx(byte type, int[] dims, byte[] values)
    {
        var bytes = new byte[4 + (4 * dims.Length) + values.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dims[i]);
        }

        values.CopyTo(bytes, 4 + (4 * dims.Length));
        return bytes;
    }

    internal static void Write(string path, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(path, bytes);
            return;
        }

        using FileStream file = File.Create(path);
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Images_and_labels_are_read_plain_or_gzip_and_scaled_to_one(bool gzip)
    {
        byte[] pixels = [.. Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 20))];
        string images = Path.Combine(_dir, "x-images-idx3-ubyte" + (gzip ? ".gz" : string.Empty));
        string labels = Path.Combine(_dir, "x-labels-idx1-ubyte" + (gzip ? ".gz" : string.Empty));
        Write(images, Idx(8, [3, 2, 2], pixels), gzip);
        Write(labels, Idx(8, [3], [2, 0, 1]), gzip);
        IdxArray array = IdxReader.Read(images);
        Assert.Equal([3, 2, 2], array.Dimensions);
        Assert.Equal(pixels, array.Values);
        DataTable table = IdxReader.ReadImages(images, labels, null, out int[] shape);
        Assert.Equal([1, 2, 2], shape);
        Assert.Equal([2, 0, 1], table.Labels);
        Assert.Equal(["0", "1", "2"], table.ClassNames);
        Assert.Equal(["pixel0", "pixel1", "pixel2", "pixel3"], table.Columns.Select(c => c.Name));
        Assert.Equal(100f / 255f, ((INumericColumn)table.Columns[1]).ValueAt(1));
    }

    [Theory]
    [InlineData("short", "shorter than the 4-byte magic number")]
    [InlineData("magic", "the magic number starts 01 00, not 00 00")]
    [InlineData("type", "the IDX type is 0x0d; Xent reads unsigned bytes (0x08)")]
    [InlineData("rank", "declares 0 dimensions")]
    [InlineData("header", "the header ends inside dimension 2 of 3")]
    [InlineData("truncated", "truncated: the header declares [2, 2, 2] = 8 values but the file holds 5")]
    [InlineData("trailing", "more bytes than the 8 values its header declares")]
    [InlineData("gzip", "")]
    public void Malformed_files_are_refused_with_the_file_named(string kind, string message)
    {
        string path = Path.Combine(_dir, kind + ".idx");
        byte[] good = Idx(8, [2, 2, 2], new byte[8]);
        byte[] bytes = kind switch
        {
            "short" => [0, 0],
            "magic" => [1, 0, 8, 1, 0, 0, 0, 0],
            "type" => Idx(0x0d, [2], new byte[8]),
            "rank" => [0, 0, 8, 0],
            "header" => good[..9],
            "truncated" => good[..^3],
            "trailing" => [.. good, 7],
            _ => Gzip(good)[..^12],
        };
        File.WriteAllBytes(path, bytes);
        DataFormatException e = Assert.Throws<DataFormatException>(() => IdxReader.Read(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var memory = new MemoryStream();
        using (var zip = new GZipStream(memory, CompressionLevel.Fastest))
        {
            zip.Write(bytes);
        }

        return memory.ToArray();
    }

    [Fact]
    public void Labels_must_match_the_images()
    {
        string images = Path.Combine(_dir, "a-images-idx3-ubyte");
        string labels = Path.Combine(_dir, "a-labels-idx1-ubyte");
        File.WriteAllBytes(images, Idx(8, [2, 2, 2], new byte[8]));
        File.WriteAllBytes(labels, Idx(8, [3], [0, 1, 0]));
        Assert.Contains("3 labels for the 2 images", Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(images, labels, null, out _)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(labels, Idx(8, [2], [0, 5]));
        Assert.Contains("label 5 of image 1 has no class name", Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(images, labels, ["a", "b"], out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_fashion_mnist_says_how_to_install_it()
    {
        string saved = ImageData.FashionMnistFolder;
        ImageData.FashionMnistFolder = Path.Combine(_dir, "absent");
        try
        {
            InputException e = Assert.Throws<InputException>(() => ImageData.Read("fashion-mnist", "--data", test: false, out _, out _));
            Assert.Contains("sudo apt-get install dataset-fashion-mnist", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            ImageData.FashionMnistFolder = saved;
        }
    }

    [FashionMnistFact]
    public void Fashion_mnist_test_images_are_read_when_installed()
    {
        DataTable table = ImageData.Read("fashion-mnist", "--test-data", test: true, out int[] shape, out _);
        Assert.Equal([1, 28, 28], shape);
        Assert.Equal(10_000, table.Count);
        Assert.Equal(784, table.Columns.Count);
        Assert.Equal("Ankle boot", table.ClassNames[9]);
        Assert.All(table.ClassCounts(), c => Assert.Equal(1000, c));
    }
}

/// <summary>A fact that is skipped, saying why, when Debian's dataset-fashion-mnist package is not installed.</summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(ImageData.FashionMnistFolder, "t10k-images-idx3-ubyte.gz")))
        {
            Skip = $"Fashion-MNIST is not installed in {ImageData.FashionMnistFolder} (sudo apt-get install dataset-fashion-mnist).";
        }
    }
}
