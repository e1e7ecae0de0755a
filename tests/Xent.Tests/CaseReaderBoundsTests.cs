using System.Text;
using Xent.Cli.LossCases;

namespace Xent.Tests;

/// <summary>Case files (xent loss, explain) are read within 4× their size, with the same messages as before.</summary>
public sealed class CaseReaderBoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-cases-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Allocated bytes of reading <paramref name="path"/>, after a warm-up read of a small file.</summary>
    private long Allocation(string path, out IReadOnlyList<LossCaseReader.Entry> entries)
    {
        LossCaseReader.ReadFile(Write("warm.json", """{"cases": [{"input": [[1, 2]], "target": [0], "name": "w", "ignore_index": 1, "label_smoothing": 0.1, "input_shape": [1, 2]}]}"""), out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        entries = LossCaseReader.ReadFile(path, out _);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_large_case_of_one_digit_numbers_is_read_within_4_times_the_file_size()
    {
        // "0," is the shortest a value can be written: 2 bytes of file for an 8-byte double.
        const int rows = 100_000, classes = 10;
        var sb = new StringBuilder("{\"name\": \"big\", \"input\": [");
        for (int r = 0; r < rows; r++)
        {
            sb.Append(r == 0 ? "[" : ",[");
            for (int k = 0; k < classes; k++)
            {
                sb.Append(k == 0 ? "" : ",").Append((r + k) % 10);
            }

            sb.Append(']');
        }

        sb.Append("], \"target\": [");
        sb.AppendJoin(',', Enumerable.Range(0, rows).Select(r => r % classes));
        sb.Append("], \"weight\": [1,2,3,4,5,6,7,8,9,1], \"reduction\": \"sum\"}");
        string path = Write("big.json", sb.ToString());
        long size = new FileInfo(path).Length;

        long allocated = Allocation(path, out IReadOnlyList<LossCaseReader.Entry> entries);

        LossCase c = Assert.Single(entries).Case!;
        Assert.Equal([rows, classes], c.Input.Shape);
        Assert.Equal(rows * classes, c.Input.Values.Length);
        Assert.Equal(5.0, c.Input.Values[(3 * classes) + 2]);
        Assert.True(c.TargetIsIndex);
        Assert.Equal(9.0, c.Target.Values[rows - 1]);
        Assert.True(allocated < (4 * size) + 200_000, $"allocated {allocated:N0} bytes to read a {size:N0}-byte case file ({(double)allocated / size:F2}×)");
    }

    [Fact]
    public void A_long_list_of_cases_with_float_values_is_read_within_4_times_the_file_size()
    {
        var random = new Random(5);
        var sb = new StringBuilder("{\"cases\": [");
        for (int i = 0; i < 200; i++)
        {
            sb.Append(i == 0 ? "" : ",").Append("{\"input\": [");
            sb.AppendJoin(',', Enumerable.Range(0, 64).Select(_ => "[" + string.Join(",", Enumerable.Range(0, 8).Select(_ => (random.NextDouble() * 4 - 2).ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]"));
            sb.Append("], \"target\": [");
            sb.AppendJoin(',', Enumerable.Range(0, 64).Select(_ => random.Next(8)));
            sb.Append("], \"expected\": {\"loss\": [1.5, 2.5], \"grad\": \"ignored\"}}");
        }

        sb.Append("]}");
        string path = Write("list.json", sb.ToString());
        long size = new FileInfo(path).Length;
        long allocated = Allocation(path, out IReadOnlyList<LossCaseReader.Entry> entries);
        Assert.Equal(200, entries.Count);
        Assert.All(entries, e => Assert.Equal([64, 8], e.Case!.Input.Shape));
        Assert.True(allocated < (4 * size) + 200_000, $"allocated {allocated:N0} bytes to read a {size:N0}-byte case file ({(double)allocated / size:F2}×)");
    }

    [Theory]
    [InlineData("""{"input": [[1, 2], [3]], "target": [0, 1]}""", "case.json.input[1]: ragged array: expected 2 elements, got 1.")]
    [InlineData("""{"input": [[1, 2], [3, 4, 5]], "target": [0, 1]}""", "case.json.input[1]: ragged array: expected 2 elements, got 3.")]
    [InlineData("""{"input": [[1, 2], 3], "target": [0, 1]}""", "case.json.input[1]: expected an array of 2 elements at depth 1, got the number 3 (ragged nesting).")]
    [InlineData("""{"input": [[1, [2]]], "target": [0]}""", "case.json.input[0][1]: expected a number, got an array of 1.")]
    [InlineData("""{"input": [[1, {"a": 1}]], "target": [0]}""", "case.json.input[0][1]: expected a number, got an object.")]
    [InlineData("""{"input": [[], [1]], "target": [0]}""", "case.json.input[1]: ragged array: expected 0 elements, got 1.")]
    [InlineData("""{"input": [[1, 1e400]], "target": [0]}""", "case.json.input[0][1]: the number 1e400 is out of range.")]
    [InlineData("""{"input": [[1, 2]], "target": [0], "ignore_index": 1.5}""", "case.json.ignore_index: expected an integer, got 1.5.")]
    [InlineData("""{"input": [[1, 2]], "target": [0], "reduction": [1]}""", "case.json.reduction: expected a string, got an array of 1.")]
    [InlineData("""{"input": [[1, 2]], "target": [0], "input_shape": [2, 2]}""", "case.json.input_shape: [2, 2] holds 4 elements but input has 2.")]
    [InlineData("""{"input": [[1, 2]]} {"target": [0]}""", "case.json:1:21: malformed JSON")]
    [InlineData("""{"cases": 3}""", "case.json: \"cases\" must be an array.")]
    [InlineData("\"input\"", "case.json: expected a case object or {\"cases\": [...]}, got string.")]
    public void Malformed_arrays_and_fields_say_what_and_where(string json, string message)
    {
        string path = Write("case.json", json);
        var e = Assert.Throws<InputException>(() => LossCaseReader.ReadFile(path, out _));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void The_same_case_reads_the_same_from_a_file_and_from_a_JsonElement()
    {
        const string json = """{"name": "n\u00e9", "input": [[1.5, "nan", "-inf"], [0, 2, 3]], "target": [2, -100], "weight": [1, 2, 3], "ignore_index": -100, "label_smoothing": 0.25, "reduction": "sum", "function": "cross_entropy", "dtype": "float64", "input": [[1, 2, 3], [4, 5, 6]]}""";
        LossCase fromFile = LossCaseReader.ReadFile(Write("one.json", json), out bool isList)[0].Case!;
        Assert.False(isList);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        LossCase fromElement = LossCaseReader.ReadCase(doc.RootElement, "one.json");
        foreach (LossCase c in new[] { fromFile, fromElement })
        {
            Assert.Equal("né", c.Name);
            Assert.Equal([1.0, 2, 3, 4, 5, 6], c.Input.Values); // the later "input" wins, as in JsonElement
            Assert.Equal([2.0, -100], c.Target.Values);
            Assert.Equal(0.25, c.LabelSmoothing);
            Assert.Equal(CaseDType.Float64, c.DType);
        }
    }

    [Fact]
    public void A_string_longer_than_the_token_limit_is_refused()
    {
        string path = Write("long.json", "{\"name\": \"" + new string('x', JsonTokenStream.MaxTokenBytes + 10) + "\", \"input\": [1], \"target\": [0]}");
        var e = Assert.Throws<InputException>(() => LossCaseReader.ReadFile(path, out _));
        Assert.Contains($"longer than {JsonTokenStream.MaxTokenBytes} bytes", e.Message);
    }

    [Fact]
    public void Dev_zero_is_refused_as_a_case_file()
    {
        if (File.Exists("/dev/zero"))
        {
            Assert.StartsWith("zero:1:1: malformed JSON", Assert.Throws<InputException>(() => LossCaseReader.ReadFile("/dev/zero", out _)).Message);
        }
    }
}
