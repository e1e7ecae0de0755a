using System.Diagnostics;
using System.Text;
using Xent.Data;

namespace Xent.Tests;

/// <summary>The CSV reader is bounded (fields, lines), checks its header and its encoding, and selects columns by name.</summary>
public sealed class ReaderBoundsTests
{
    private static DataFormatException Reject(byte[] bytes, CsvReadOptions? options = null)
    {
        using var stream = new MemoryStream(bytes);
        return Assert.Throws<DataFormatException>(() => CsvDatasetReader.Read(stream, "data.csv", options));
    }

    private static DataFormatException Reject(string text, CsvReadOptions? options = null) => Reject(Encoding.UTF8.GetBytes(text), options);

    private static CsvTable Table(string text, CsvReadOptions? options = null)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(text));
        return CsvDatasetReader.ReadTable(stream, "data.csv", options);
    }

    [Theory]
    [InlineData(0)] // a feature
    [InlineData(1)] // the label
    [InlineData(2)] // a column that the read skips
    public void A_field_longer_than_1_MB_is_refused_quoting_at_most_80_characters(int column)
    {
        string big = new('7', CsvDatasetReader.MaxFieldBytes + 1);
        string[] cells = ["1", "x", "z"];
        cells[column] = big;
        var e = Reject($"a,label,extra\n1,x,z\n{string.Join(",", cells)}\n", new CsvReadOptions { FeatureColumns = ["a"] });
        Assert.Equal((3L, column + 1), (e.Line, e.Column));
        Assert.Contains($"holds a field of {CsvDatasetReader.MaxFieldBytes + 1} bytes, longer than the {CsvDatasetReader.MaxFieldBytes} bytes Xent reads", e.Message);
        Assert.Contains("'" + new string('7', 80) + "…'", e.Message);
        Assert.DoesNotContain(new string('7', 81), e.Message);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void A_long_header_field_is_refused_too()
    {
        var e = Reject($"a,{new string('b', CsvDatasetReader.MaxFieldBytes + 5)},label\n1,2,x\n");
        Assert.Equal((1L, 2), (e.Line, e.Column));
        Assert.StartsWith("data.csv:1:2: the header holds a field of", e.Message);
    }

    [Fact]
    public void Messages_quote_at_most_80_characters_of_a_bad_cell_and_escape_line_breaks()
    {
        var e = Reject($"a,label\n\"{new string('q', 500)}\nmore\",x\n");
        Assert.Equal((2L, 1), (e.Line, e.Column));
        Assert.Contains("column 'a' holds '" + new string('q', 80) + "…', which is not a number.", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>An endless stream of one byte: a reader that does not bound its lines never returns.</summary>
    private sealed class EndlessStream(byte value) : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            buffer.Fill(value);
            Served += buffer.Length;
            return buffer.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData((byte)'1')]
    [InlineData((byte)'a')]
    [InlineData((byte)0)]
    public void An_endless_input_without_line_breaks_is_refused_in_bounded_memory_and_time(byte value)
    {
        var stream = new EndlessStream(value);
        var stopwatch = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => CsvDatasetReader.Read(stream, "endless.csv"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains($"a line longer than {CsvDatasetReader.MaxRecordBytes} bytes (32 MiB) without a line break", e.Message);
        Assert.StartsWith("endless.csv:1: ", e.Message);
        Assert.InRange(stream.Served, CsvDatasetReader.MaxRecordBytes, 3L * CsvDatasetReader.MaxRecordBytes);
        Assert.True(allocated < 8L * CsvDatasetReader.MaxRecordBytes, $"allocated {allocated:N0} bytes");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public void Dev_zero_is_refused_with_a_DataFormatException()
    {
        if (!File.Exists("/dev/zero"))
        {
            return; // not a Unix system
        }

        var stopwatch = Stopwatch.StartNew();
        var e = Assert.Throws<DataFormatException>(() => CsvDatasetReader.Read("/dev/zero"));
        Assert.StartsWith("zero:1: a line longer than", e.Message);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData("a,b,a,label\n1,2,3,x\n", 1, 3, "duplicate column names: 'a' (columns 1, 3); every column needs a name of its own.")]
    [InlineData("a,b,a,b,a,label\n1,2,3,4,5,x\n", 1, 3, "duplicate column names: 'a' (columns 1, 3, 5); 'b' (columns 2, 4)")]
    [InlineData("a,label,label\n1,x,y\n", 1, 3, "duplicate column names: 'label' (columns 2, 3)")]
    [InlineData("a,,label\n1,2,x\n", 1, 2, "empty column name in column 2; every column needs a name.")]
    [InlineData(",a, ,label\n1,2,3,x\n", 1, 1, "empty column names in columns 1, 3; every column needs a name.")]
    public void Duplicate_or_empty_column_names_are_errors_that_name_them(string csv, long line, int column, string problem)
    {
        var e = Reject(csv);
        Assert.Equal((line, column), (e.Line, e.Column));
        Assert.StartsWith(problem, e.Problem);
    }

    [Fact]
    public void With_selected_columns_only_the_names_used_must_be_unique()
    {
        CsvTable t = Table(",a,x,x,label\n0,1,2,3,y\n", new CsvReadOptions { FeatureColumns = ["a"] });
        Assert.Equal([1f], t.Dataset.Features);
        var e = Reject("a,x,a,label\n1,2,3,y\n", new CsvReadOptions { FeatureColumns = ["a"] });
        Assert.Contains("duplicate column names: 'a' (columns 1, 3)", e.Message);
    }

    [Fact]
    public void Invalid_UTF8_in_the_header_is_an_error_with_its_line_and_column()
    {
        byte[] bytes = [.. "a,b"u8, 0xFF, .. ",label\n1,2,x\n"u8];
        var e = Reject(bytes);
        Assert.Equal((1L, 2), (e.Line, e.Column));
        Assert.Equal("the header is not valid UTF-8 (byte 0xFF at byte 2 of the field); save the file as UTF-8.", e.Problem);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Invalid_UTF8_in_any_cell_is_an_error_with_its_line_and_column(int column)
    {
        // Latin-1 "é" (0xE9) followed by an ASCII letter is not UTF-8; the column is checked even when skipped.
        byte[][] cells = [[.. "1"u8], [.. "x"u8], [.. "z"u8]];
        cells[column] = [(byte)'c', 0xE9, (byte)'t'];
        byte[] bytes = [.. "a,label,extra\n1,x,z\n"u8, .. cells[0], (byte)',', .. cells[1], (byte)',', .. cells[2], (byte)'\n'];
        var e = Reject(bytes, new CsvReadOptions { FeatureColumns = ["a"] });
        Assert.Equal((3L, column + 1), (e.Line, e.Column));
        Assert.Contains("is not valid UTF-8 (byte 0xE9 at byte 2 of the field)", e.Message);
    }

    [Fact]
    public void Invalid_UTF8_inside_a_quoted_multi_line_field_names_its_own_line()
    {
        byte[] bytes = [.. "a,label\n1,\"x\ny\nz"u8, 0xC3, .. "\"\n"u8];
        var e = Reject(bytes);
        Assert.Equal((4L, 2), (e.Line, e.Column));
    }

    [Fact]
    public void A_UTF8_byte_order_mark_is_not_part_of_the_first_name()
    {
        using var stream = new MemoryStream([0xEF, 0xBB, 0xBF, .. "a,label\n1,x\n"u8]);
        Assert.Equal(["a"], CsvDatasetReader.Read(stream, "bom.csv").FeatureNames);
    }

    [Fact]
    public void Feature_columns_are_found_by_name_in_any_order_and_other_columns_are_not_parsed()
    {
        CsvTable t = Table("note,c,label,a,b\nhello,3,x,1,2\n\"a, b\",6,y,4,5\n", new CsvReadOptions { FeatureColumns = ["a", "b", "c"] });
        Assert.Equal(["a", "b", "c"], t.Dataset.FeatureNames);
        Assert.Equal([1f, 2, 3, 4, 5, 6], t.Dataset.Features);
        Assert.Equal(["x", "y"], t.Dataset.ClassNames);
        Assert.Null(t.Ids);
    }

    [Fact]
    public void Missing_feature_columns_are_listed()
    {
        var e = Reject("a,label\n1,x\n", new CsvReadOptions { FeatureColumns = ["a", "b", "c"] });
        Assert.Equal("data.csv:1: missing feature columns 'b', 'c' (2 of the 3 that are needed).", e.Message);
    }

    [Fact]
    public void Without_a_label_column_the_label_is_ignored_whatever_it_holds()
    {
        CsvTable t = Table("label,a\nnever-seen,1\n,2\n\"x,y\",3\n", new CsvReadOptions { LabelColumn = null, FeatureColumns = ["a"], ClassNames = ["p", "q"] });
        Assert.Equal([1f, 2, 3], t.Dataset.Features);
        Assert.Equal([0, 0, 0], t.Dataset.Labels);
        Assert.Equal(["p", "q"], t.Dataset.ClassNames);
    }

    [Fact]
    public void Without_a_label_and_without_class_names_every_row_has_one_unnamed_class()
    {
        // This threw an ArgumentException from Dataset (label 0 outside [0, 0)) before; found by the fuzz test.
        CsvTable t = Table("a,b\n1,2\n", new CsvReadOptions { LabelColumn = null });
        Assert.Equal([string.Empty], t.Dataset.ClassNames);
        Assert.Equal([0], t.Dataset.Labels);
        Assert.Equal([string.Empty], Table("a,b\n1,2\n", new CsvReadOptions { LabelOptional = true }).Dataset.ClassNames);
    }

    [Fact]
    public void The_id_column_is_kept_as_text_and_is_not_a_feature()
    {
        CsvTable t = Table("id,a,label\nr-1,1,x\n\"with, comma\",2,y\n,3,x\n", new CsvReadOptions { IdColumn = "id" });
        Assert.Equal(["a"], t.Dataset.FeatureNames);
        Assert.Equal(["r-1", "with, comma", ""], t.Ids);
        Assert.Contains("no id column named 'key'", Reject("a,label\n1,x\n", new CsvReadOptions { IdColumn = "key" }).Message);
    }

    [Fact]
    public void A_label_that_is_also_a_selected_feature_is_an_error()
    {
        var e = Reject("a,label\n1,2\n", new CsvReadOptions { FeatureColumns = ["a", "label"] });
        Assert.Contains("column 'label' is both a feature and the label column", e.Message);
    }
}
