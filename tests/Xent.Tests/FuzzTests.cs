using Xent.Kernels;
using System.Text;
using Xent.Data;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Readers of user files fail only with their own clear exception types, whatever the input (seeded fuzzing).</summary>
public sealed class FuzzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_csv_reader_never_throws_anything_but_a_DataFormatException()
    {
        byte[] valid = File.ReadAllBytes(DataTests.RepoFile("data", "iris.csv"))[..1500];
        var random = new XentRandom(2026);
        int rejected = 0;
        for (int round = 0; round < 300; round++)
        {
            byte[] bytes = Mutate(valid, random);
            try
            {
                using var stream = new MemoryStream(bytes);
                Dataset d = CsvDatasetReader.Read(stream, "fuzz.csv");
                Assert.Equal(d.Count * d.FeatureCount, d.Features.Length);
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("fuzz.csv", e.Message);
                rejected++;
            }
        }

        Assert.InRange(rejected, 1, 299); // both outcomes occur, so the test exercises both paths
    }

    [Fact]
    public void The_model_reader_never_throws_anything_but_an_InvalidDataException()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        ModelFile.Save(path, Mlp.Create(4, [5], 3, new XentRandom(1)), new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = ["w", "x", "y", "z"] });
        byte[] valid = File.ReadAllBytes(path);
        var random = new XentRandom(7);
        int rejected = 0;
        for (int round = 0; round < 300; round++)
        {
            File.WriteAllBytes(path, Mutate(valid, random));
            try
            {
                ModelFile.Load(path);
            }
            catch (InvalidDataException e)
            {
                Assert.Contains("m.safetensors", e.Message);
                rejected++;
            }
        }

        Assert.InRange(rejected, 1, 300);
    }

    [Fact]
    public void Case_files_for_xent_loss_fail_only_with_exit_code_2()
    {
        byte[] valid = Encoding.UTF8.GetBytes("""{"cases": [{"input": [[1.5, -0.5, 0.25], [0.1, 0.2, 0.3]], "target": [2, -100], "weight": [1, 2, 3], "label_smoothing": 0.1, "reduction": "sum"}, {"loss": "bce_with_logits", "input": [0.5, -2.0], "target": [1.0, 0.0], "pos_weight": [3.0]}]}""");
        var random = new XentRandom(99);
        string path = Path.Combine(_dir, "cases.json");
        int failed = 0;
        for (int round = 0; round < 300; round++)
        {
            File.WriteAllBytes(path, Mutate(valid, random));
            var (code, _, error) = Cli.Run("loss", path);
            Assert.True(code is 0 or 2, $"exit code {code}: {error}");
            if (code == 2)
            {
                Assert.StartsWith("xent: error:", error);
                failed++;
            }
        }

        Assert.InRange(failed, 1, 299);
    }

    /// <summary>Flips bytes, truncates, duplicates or splices in random bytes.</summary>
    private static byte[] Mutate(byte[] valid, XentRandom random)
    {
        var bytes = new List<byte>(valid);
        int edits = 1 + random.NextInt(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.NextInt(bytes.Count);
            switch (random.NextInt(5))
            {
                case 0:
                    bytes[at] ^= (byte)(1 << random.NextInt(8));
                    break;
                case 1:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                case 2:
                    bytes.Insert(at, (byte)random.NextInt(256));
                    break;
                case 3:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(new[] { ",", "\n", "\"", "nan", "1e39", "-", " " }[random.NextInt(7)]));
                    break;
                default:
                    bytes.RemoveAt(at);
                    break;
            }
        }

        return [.. bytes];
    }
}
