using Xent.Cli.LossCases;
using Xent.Data;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>
/// Image data given to <c>--data</c>, <c>--test-data</c> or <c>--val-data</c> instead of a CSV: the name
/// <c>fashion-mnist</c> (Debian's dataset-fashion-mnist package, training or t10k files), or an IDX image file
/// (<c>…-images-idx3-ubyte[.gz]</c>) whose labels lie beside it (<c>…-labels-idx1-ubyte[.gz]</c>).
/// </summary>
internal static class ImageData
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts its files.</summary>
    public static string FashionMnistFolder { get; set; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Whether the text names image data rather than a CSV file.</summary>
    public static bool Names(string text)
    {
        string name = Path.GetFileName(text.Trim());
        return (name == "fashion-mnist" && !File.Exists(text)) || name.Contains("-images-idx", StringComparison.Ordinal)
            || (File.Exists(text) && IdxReader.Sniff(text) is 1 or 3 or 4); // IDX by its magic number, whatever the name
    }

    /// <summary>The labels file that goes with an IDX images file: <c>x-images-idx3-ubyte</c> → <c>x-labels-idx1-ubyte</c>, <c>x-images.idx3-ubyte</c> → <c>x-labels.idx1-ubyte</c>.</summary>
    internal static string LabelsFor(string images)
    {
        string name = Path.GetFileName(images);
        string labels = name.Replace("images-idx3", "labels-idx1", StringComparison.Ordinal).Replace("images-idx4", "labels-idx1", StringComparison.Ordinal)
            .Replace("images.idx3", "labels.idx1", StringComparison.Ordinal).Replace("images.idx4", "labels.idx1", StringComparison.Ordinal);
        return Path.Combine(Path.GetDirectoryName(images) ?? string.Empty, labels == name ? name + ".labels" : labels);
    }

    /// <summary>
    /// Sets a run's options for image data: pixels are already scaled to [0, 1], so no per-pixel standardisation (it
    /// would divide the border pixels, nearly always 0, by a deviation near 0), and a <c>--model</c> sees each row as
    /// an image of <paramref name="shape"/>.
    /// </summary>
    /// <param name="options">The run's options.</param>
    /// <param name="shape">The images' shape (C, H, W).</param>
    /// <param name="where">A prefix for the message, naming the run; empty for none.</param>
    /// <returns>The options for the images.</returns>
    /// <exception cref="InputException">The options give an <c>--input-shape</c> other than the images'.</exception>
    public static PipelineOptions Configure(PipelineOptions options, int[] shape, string where)
    {
        if (options.InputShape is { } given && !given.SequenceEqual(shape))
        {
            throw new InputException($"{where}--input-shape {string.Join("x", given)} does not match the images of --data, which are {string.Join("x", shape)}.");
        }

        return options with { Standardize = false, InputShape = options.Model is null ? null : shape };
    }

    /// <summary>Reads the images and labels.</summary>
    /// <param name="text">The option's value.</param>
    /// <param name="option">The option, for messages.</param>
    /// <param name="test">For fashion-mnist: the t10k files (test) rather than the training files.</param>
    /// <param name="shape">The shape of one image (C, H, W).</param>
    /// <param name="source">The files read, for config.json.</param>
    /// <returns>The table (pixels scaled to [0, 1]).</returns>
    public static DataTable Read(string text, string option, bool test, out int[] shape, out string source, bool labelsOptional = false)
    {
        string images, labels;
        IReadOnlyList<string>? classes = null;
        if (Path.GetFileName(text.Trim()) == "fashion-mnist")
        {
            string prefix = test ? "t10k" : "train";
            images = Path.Combine(FashionMnistFolder, prefix + "-images-idx3-ubyte.gz");
            labels = Path.Combine(FashionMnistFolder, prefix + "-labels-idx1-ubyte.gz");
            if (!File.Exists(images) || !File.Exists(labels))
            {
                throw new InputException($"{option} fashion-mnist: {(File.Exists(images) ? labels : images)} is missing; install the dataset with: sudo apt-get install dataset-fashion-mnist");
            }

            classes = IdxReader.FashionMnistClasses;
        }
        else
        {
            images = text.Trim();
            if (File.Exists(images) && IdxReader.Sniff(images) == 1)
            {
                throw new InputException($"{option} {images}: an IDX labels file (one dimension); give the images file, and its labels file is found beside it.");
            }

            labels = LabelsFor(images);
            if (!labelsOptional && File.Exists(images) && !File.Exists(labels))
            {
                throw new InputException($"{option} {images}: its labels file {labels} is missing (the labels of NAME-images-idx3-ubyte[.gz] are read from NAME-labels-idx1-ubyte[.gz] beside it).");
            }
        }

        try
        {
            source = images;
            return IdxReader.ReadImages(images, labelsOptional && !File.Exists(labels) ? null : labels, classes, out shape);
        }
        catch (Exception e) when (e is DataFormatException or FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            throw new InputException($"{option}: {e.Message}", e);
        }
    }
}
