using System.Text;
using Xent.Cli.LossCases;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>
/// Readers of user files fail only with their own clear exception types, whatever the input, and allocate at most a
/// bound proportional to the input's size (seeded fuzzing: 1,000 mutations per reader).
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Rounds = 1000;

    private readonly string _dir = Directory.CreateTempSubdirectory("xent-fuzz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The bound on the bytes one read may allocate: a multiple of the input's size plus the readers' fixed buffers.</summary>
    private static long Bound(int size, int perByte, long constant) => ((long)perByte * size) + constant;

    [Fact]
    public void The_csv_reader_throws_only_DataFormatExceptions_in_bounded_memory()
    {
        byte[][] seeds =
        [
            File.ReadAllBytes(DataTests.RepoFile("data", "iris.csv"))[..1500],
            Encoding.UTF8.GetBytes("id,b,a,label\n\"x, 1\",1.5,-2,yes\n\"q\"\"uote\",3e2,0.25,no\nz,7,8,\"multi\nline\"\n"),
        ];
        var options = new[] { new CsvReadOptions(), new CsvReadOptions { FeatureColumns = ["a", "b"], IdColumn = "id" }, new CsvReadOptions { LabelColumn = null, FeatureColumns = ["b"] } };
        var random = new XentRandom(2026);
        int rejected = 0;
        for (int round = 0; round < Rounds; round++)
        {
            byte[] bytes = Mutate(seeds[round % seeds.Length], random);
            CsvReadOptions option = options[round % seeds.Length == 0 ? 0 : 1 + (round / 2 % 2)];
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var stream = new MemoryStream(bytes);
                CsvTable t = CsvDatasetReader.ReadTable(stream, "fuzz.csv", option);
                Assert.Equal(t.Dataset.Count * t.Dataset.FeatureCount, t.Dataset.Features.Length);
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("fuzz.csv", e.Message);
                Assert.DoesNotContain('\n', e.Message);
                rejected++;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < Bound(bytes.Length, 64, 2_000_000), $"round {round}: {allocated:N0} bytes allocated for {bytes.Length:N0} bytes of input");
        }

        Assert.InRange(rejected, 1, Rounds - 1); // both outcomes occur, so the test exercises both paths
    }

    [Fact]
    public void The_model_reader_throws_only_InvalidDataExceptions_in_bounded_memory()
    {
        string path = Path.Combine(_dir, "m.safetensors");
        var info = new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = ["w", "x", "y", "z"], Standardizer = new Standardizer([0.5f, 1, 2, 3], [1, 2, 0.5f, 1]) };
        ModelFile.Save(path, Mlp.Create(4, [5], 3, new XentRandom(1)), info);
        byte[] valid = File.ReadAllBytes(path);
        var random = new XentRandom(7);
        int rejected = 0;
        for (int round = 0; round < Rounds; round++)
        {
            byte[] bytes = Mutate(valid, random);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                (Sequential model, ModelInfo read) = ModelFile.Load(path);
                Assert.Equal(read.FeatureNames.Count, model.InputFeatures);
                Assert.All(model.Parameters, p => Assert.All(p.Value, v => Assert.True(float.IsFinite(v))));
            }
            catch (InvalidDataException e)
            {
                Assert.StartsWith("m.safetensors: ", e.Message);
                Assert.DoesNotContain("(Parameter", e.Message);
                rejected++;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < Bound(bytes.Length, 64, 1_000_000), $"round {round}: {allocated:N0} bytes allocated for {bytes.Length:N0} bytes of input");
        }

        Assert.InRange(rejected, 1, Rounds - 1);
    }

    private static readonly byte[] s_cases = Encoding.UTF8.GetBytes("""{"cases": [{"input": [[1.5, -0.5, 0.25], [0.1, 0.2, 0.3]], "target": [2, -100], "weight": [1, 2, 3], "label_smoothing": 0.1, "reduction": "sum", "name": "first"}, {"loss": "bce_with_logits", "input": [0.5, -2.0], "target": [1.0, 0.0], "pos_weight": [3.0]}, {"function": "nll", "input": [[["nan", 1], [2, "-inf"]]], "input_shape": [1, 2, 2], "target": [[1, 0]], "ignore_index": 1, "dtype": "float64"}]}""");

    [Fact]
    public void The_case_reader_throws_only_InputExceptions_in_bounded_memory()
    {
        string path = Path.Combine(_dir, "cases.json");
        var random = new XentRandom(99);
        int failed = 0;
        for (int round = 0; round < Rounds; round++)
        {
            byte[] bytes = Mutate(s_cases, random);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                IReadOnlyList<LossCaseReader.Entry> entries = LossCaseReader.ReadFile(path, out _);
                Assert.All(entries, e => Assert.True(e.Case is not null ^ e.Error is not null));
            }
            catch (InputException e)
            {
                Assert.StartsWith("cases.json", e.Message);
                failed++;
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < Bound(bytes.Length, 64, 200_000), $"round {round}: {allocated:N0} bytes allocated for {bytes.Length:N0} bytes of input");
        }

        Assert.InRange(failed, 1, Rounds - 1);
    }

    [Fact]
    public void Case_files_for_xent_loss_fail_only_with_exit_code_2()
    {
        var random = new XentRandom(98);
        string path = Path.Combine(_dir, "cases.json");
        int failed = 0;
        for (int round = 0; round < 200; round++)
        {
            File.WriteAllBytes(path, Mutate(s_cases, random));
            var (code, _, error) = Cli.Run("loss", path);
            Assert.True(code is 0 or 2, $"exit code {code}: {error}");
            if (code == 2)
            {
                Assert.StartsWith("xent: error:", error);
                failed++;
            }
        }

        Assert.InRange(failed, 1, 199);
    }

    private static readonly string[] s_fragments = [",", "\n", "\r\n", "\"", "nan", "1e39", "-", " ", "[", "]", "{", "}", ":", "\\u0000", "\0", "\u00e9"];

    private static readonly string[] s_hugeNumbers = ["1e400", "-1e39", "2147483647", "2147483648", "4294967297", "9223372036854775807", "99999999999999999999999999", "-1", "0", "65536"];

    /// <summary>
    /// 1 to 4 edits: bit flips, truncation, inserted, deleted or invalid UTF-8 bytes, inserted JSON/CSV punctuation,
    /// a duplicated chunk, or a run of digits replaced by a huge (or negative, or zero) number.
    /// </summary>
    private static byte[] Mutate(byte[] valid, XentRandom random)
    {
        var bytes = new List<byte>(valid);
        int edits = 1 + random.NextInt(4);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = random.NextInt(bytes.Count);
            switch (random.NextInt(8))
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
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(s_fragments[random.NextInt(s_fragments.Length)]));
                    break;
                case 4:
                {
                    // Duplicate a chunk, up to 4 times (a repeated row, case or tensor entry).
                    int length = 1 + random.NextInt(Math.Min(200, bytes.Count - at));
                    byte[] chunk = [.. bytes.GetRange(at, length)];
                    int copies = 1 + random.NextInt(4);
                    int to = random.NextInt(bytes.Count + 1);
                    for (int c = 0; c < copies; c++)
                    {
                        bytes.InsertRange(to, chunk);
                    }

                    break;
                }

                case 5:
                {
                    // Replace the run of digits nearest after `at` by a huge number.
                    int start = bytes.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (start < 0)
                    {
                        break;
                    }

                    int end = start;
                    while (end < bytes.Count && bytes[end] is >= (byte)'0' and <= (byte)'9')
                    {
                        end++;
                    }

                    bytes.RemoveRange(start, end - start);
                    bytes.InsertRange(start, Encoding.ASCII.GetBytes(s_hugeNumbers[random.NextInt(s_hugeNumbers.Length)]));
                    break;
                }

                case 6:
                    bytes.Insert(at, (byte)(0x80 + random.NextInt(0x80))); // a stray UTF-8 continuation or lead byte
                    break;
                default:
                    bytes.RemoveAt(at);
                    break;
            }
        }

        return [.. bytes];
    }
}
