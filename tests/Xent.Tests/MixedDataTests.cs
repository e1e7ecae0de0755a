using System.Text;
using System.Text.Json;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Issue 9: real data in: mixed-type CSVs, missing values, separate test files, defaults that fit.</summary>
[Collection(nameof(ParallelismCollection))]
public sealed class MixedDataTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-mixed-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DataTable Read(string csv, TableReadOptions? options = null)
        => CsvTableReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(csv)), "t.csv", options);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A small mixed table: an id, a numeric column with gaps, a text column with gaps, a boolean, and the label.</summary>
    private static string Mixed(int rows, ulong seed, bool unseen = false)
    {
        var random = new XentRandom(seed);
        var sb = new StringBuilder("id,size,island,flag,w,label\n");
        string[] islands = ["Biscoe", "Dream", "Torgersen"];
        for (int i = 0; i < rows; i++)
        {
            int y = random.NextInt(2);
            double size = (y == 1 ? 2.0 : 0.0) + random.NextGaussian();
            string island = unseen && i == 0 ? "Atlantis" : islands[(y + random.NextInt(2)) % 3];
            string sizeText = random.NextInt(10) == 0 ? "NA" : size.ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
            string islandText = random.NextInt(12) == 0 ? "" : island;
            string w = random.NextGaussian().ToString("F4", System.Globalization.CultureInfo.InvariantCulture);
            sb.Append($"r{seed}-{i},{sizeText},{islandText},{(random.NextInt(2) == 0 ? "yes" : "no")},{w},{(y == 1 ? "big" : "small")}\n");
        }

        return sb.ToString();
    }

    [Fact]
    public void Column_kinds_are_detected_and_missing_cells_marked()
    {
        DataTable t = Read("a,b,c,d,label\n1.5,x,true,,p\nNA,y,False,7,q\n3,,yes,8,p\n");
        Assert.Equal(["a", "b", "c", "d"], t.Columns.Select(c => c.Name));
        Assert.Equal([ColumnKind.Numeric, ColumnKind.Categorical, ColumnKind.Boolean, ColumnKind.Numeric], t.Columns.Select(c => c.Kind));
        Assert.Equal(1, t.Columns[0].MissingCount());
        Assert.Equal(1, t.Columns[1].MissingCount());
        Assert.Equal(1, t.Columns[3].MissingCount());
        Assert.Equal(["true", "false", "true"], Enumerable.Range(0, 3).Select(((CategoricalColumn)t.Columns[2]).ValueAt));
        Assert.Equal(["p", "q"], t.ClassNames);
    }

    [Fact]
    public void Options_override_detection_drop_columns_change_missing_spellings_and_read_headerless_files()
    {
        DataTable t = Read("zip,n,label\n01234,5,a\n99999,-,b\n", new TableReadOptions { Categorical = ["zip"], MissingTokens = ["-"] });
        Assert.Equal(ColumnKind.Categorical, t.Columns[0].Kind);
        Assert.Equal(["01234", "99999"], ((CategoricalColumn)t.Columns[0]).Values);
        Assert.True(t.Columns[1].IsMissing(1));

        t = Read("id,n,label\nq1,5,a\nq2,6,b\n", new TableReadOptions { Drop = ["id"] });
        Assert.Equal(["n"], t.Columns.Select(c => c.Name));

        t = Read("1,2,x\n3,4,y\n", new TableReadOptions { HasHeader = false });
        Assert.Equal(["c0", "c1"], t.Columns.Select(c => c.Name));
        Assert.Equal(["x", "y"], t.ClassNames);

        t = Read("1,x,2\n3,y,4\n", new TableReadOptions { HasHeader = false, Label = "1" });
        Assert.Equal(["c0", "c2"], t.Columns.Select(c => c.Name));
        Assert.Equal(["x", "y"], t.ClassNames);
    }

    [Theory]
    [InlineData("a,label\n1,p\nx,q\n", "--numeric", "t.csv:3:1", "--categorical a")]
    [InlineData("a,label\n1,p\n2,q\n", "--drop", "t.csv:1", "'b'")]
    [InlineData("a,b\n1,p\n", "", "t.csv:1", "--label NAME or --label INDEX")]
    public void Unreadable_input_names_the_place_and_the_option_that_fixes_it(string csv, string option, string where, string hint)
    {
        var options = option switch
        {
            "--numeric" => new TableReadOptions { Numeric = ["a"] },
            "--drop" => new TableReadOptions { Drop = ["b"] },
            _ => new TableReadOptions(),
        };
        var e = Assert.Throws<DataFormatException>(() => Read(csv, options));
        Assert.StartsWith(where, e.Message);
        Assert.Contains(hint, e.Message);
    }

    [Fact]
    public void A_number_column_with_a_stray_text_cell_is_read_as_text_with_a_warning_and_na_adds_spellings()
    {
        var sb = new StringBuilder("fare,label\n");
        for (int i = 0; i < 40; i++)
        {
            sb.Append(i == 17 ? "free" : (i * 1.5).ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(i % 2 == 0 ? ",a\n" : ",b\n");
        }

        string path = Write("fare.csv", sb.ToString());
        DataTable t = CsvTableReader.Read(path);
        Assert.Equal(ColumnKind.Categorical, t.Columns[0].Kind);
        string warning = Assert.Single(t.Warnings);
        Assert.Contains("'free' at fare.csv:19:1", warning);
        Assert.Contains("--numeric fare", warning);

        string run = Path.Combine(_dir, "fare-run");
        var (code, output, _) = Cli.Run("train", "--data", path, "--out", run, "--epochs", "2", "--na", "free");
        Assert.Equal(0, code);
        Assert.DoesNotContain("read as text", output);
        DataTable withNa = CsvTableReader.Read(path, new TableReadOptions { MissingTokens = [.. TableReadOptions.DefaultMissingTokens, "free"] });
        Assert.Equal(ColumnKind.Numeric, withNa.Columns[0].Kind);
        Assert.Equal(1, withNa.Columns[0].MissingCount());

        // evaluate finds the label column the model was trained with; predict refuses an --out in a missing folder.
        string model = Path.Combine(run, "model.safetensors");
        string renamed = Write("renamed.csv", sb.ToString().Replace("fare,label", "fare,outcome", StringComparison.Ordinal));
        Assert.Equal(0, Cli.Run("train", "--data", renamed, "--label", "outcome", "--out", Path.Combine(_dir, "outcome"), "--epochs", "2", "--na", "free").Code);
        Assert.Equal(0, Cli.Run("evaluate", "--model", Path.Combine(_dir, "outcome", "model.safetensors"), "--data", renamed).Code);
        var (bad, _, error) = Cli.Run("predict", "--model", model, "--data", path, "--out", Path.Combine(_dir, "no-such-folder", "p.csv"));
        Assert.Equal(2, bad);
        Assert.Contains("does not exist", error);
    }

    [Fact]
    public void Inspect_lists_a_column_without_values_instead_of_failing()
    {
        string path = Write("empty-column.csv", "a,b,label\n1,,x\n2,,y\n3,,x\n");
        var (code, output, error) = Cli.Run("inspect", "--data", path);
        Assert.True(code == 0, error);
        Assert.Contains("column 'b' has no values at all", output);
    }

    [Fact]
    public void Inspect_says_that_missing_cells_were_imputed_and_quotes_categories_with_commas()
    {
        string path = Write("missing-cells.csv", "a,b,label\n1,,x\n2,3,y\n\"4,5\",6,x\n7,NA,y\n");
        var (code, output, error) = Cli.Run("inspect", "--data", path);
        Assert.True(code == 0, error);
        Assert.Contains("No NaN or infinite values after imputing the 2 missing cells", output);
        Assert.Contains("4 distinct: 1, 2, \"4,5\", 7", output);

        (_, output, _) = Cli.Run("inspect", "--data", Write("complete.csv", "a,label\n1,x\n2,y\n"));
        Assert.Contains("No NaN or infinite values.", output);
    }

    [Theory]
    [InlineData(";")]
    [InlineData("\t")]
    [InlineData("|")]
    public void The_delimiter_is_found_from_the_first_line(string d)
    {
        DataTable table = Read($"a{d}b{d}label\n1{d}2,5{d}x\n3{d}4{d}y\n");
        Assert.Equal(["a", "b"], table.Columns.Select(c => c.Name));
        Assert.Equal(ColumnKind.Numeric, table.Columns[0].Kind);
        Assert.Equal(ColumnKind.Categorical, table.Columns[1].Kind); // "2,5" is one text cell: the comma is not the delimiter here
    }

    [Fact]
    public void Numbers_with_a_decimal_comma_are_named_in_one_warning_with_a_way_to_convert_them()
    {
        DataTable table = Read("alcohol;ash;n;label\n14,23;1,5;3;x\n13,2;2;4;y\n-12,1;3;5;x\n");
        Assert.Equal(ColumnKind.Categorical, table.Columns[0].Kind);
        Assert.Equal(ColumnKind.Numeric, table.Columns[2].Kind);
        string warning = Assert.Single(table.Warnings, w => w.Contains("decimal comma"));
        Assert.Contains("columns 'alcohol', 'ash' hold numbers written with a decimal comma (first: '14,23' at t.csv:2:1)", warning);
        Assert.True(CsvTableReader.IsDecimalComma("-12,1"u8));
        Assert.False(CsvTableReader.IsDecimalComma("12,"u8));
        Assert.False(CsvTableReader.IsDecimalComma("1,2,3"u8));
        Assert.False(CsvTableReader.IsDecimalComma("North, upper"u8));

        // A text column with one such cell among words is not one of them.
        Assert.DoesNotContain(Read("city,label\nOslo,x\n\"1,5\",y\nRome,x\n").Warnings, w => w.Contains("decimal comma"));
    }

    [Fact]
    public void A_column_with_too_many_categories_suggests_drop()
    {
        var sb = new StringBuilder("name,label\n");
        for (int i = 0; i < 30; i++)
        {
            sb.Append($"n{i},{i % 2}\n");
        }

        var e = Assert.Throws<DataFormatException>(() => Read(sb.ToString(), new TableReadOptions { MaxCategories = 20 }));
        Assert.Contains("--drop name", e.Message);
    }

    [Fact]
    public void Class_numbers_for_a_model_with_class_names_get_the_order_of_the_names()
    {
        var e = Assert.Throws<DataFormatException>(() => Read("x,label\n1,0\n2,2\n", new TableReadOptions { ClassNames = ["cat", "dog", "bird"] }));
        Assert.Contains("label '0' (data row 1) is not one of the model's classes: cat, dog, bird. If the labels are class numbers, write them as names in this order: 0 = 'cat', 1 = 'dog', …, 2 = 'bird'.", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<DataFormatException>(() => Read("x,label\n1,cow\n", new TableReadOptions { ClassNames = ["cat", "dog"] }));
        Assert.DoesNotContain("class numbers", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "label", "t.csv:1: the first line has 3 fields (4, 2, class_0) but line 2 has 4, so it is not a header row for these rows (scikit-learn's CSVs open with a line of counts")]
    [InlineData(true, "class_0", "t.csv:1: the first line has 3 fields (4, 2, class_0) but line 2 has 4, so it is not a header row")]
    [InlineData(false, "label", "t.csv:1: the first line has 3 fields but line 2 has 4, so it is not a row of the same table")]
    public void A_first_line_of_counts_is_named_as_such_whatever_the_label_option(bool header, string label, string message)
    {
        // scikit-learn's bundled CSVs (wine_data.csv, iris.csv) open with "rows,features,class names…".
        var e = Assert.Throws<DataFormatException>(() => Read("4,2,class_0\n1.5,2,3,0\n2.5,1,1,1\n", new TableReadOptions { HasHeader = header, Label = label }));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.Contains("delete it and read the file with --no-header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_preprocessor_imputes_encodes_flags_unseen_categories_and_round_trips()
    {
        DataTable train = Read("x,c,label\n1,a,p\n3,b,q\nNA,b,p\n5,,q\n");
        var pre = Preprocessor.Fit(train, [0, 1, 2, 3]);
        Assert.Equal(["x", "x_missing", "c=a", "c=b", "c_missing"], pre.OutputNames);
        Dataset d = pre.Transform(train).Data;
        var numeric = (NumericEncoder)pre.Columns[0];
        Assert.Equal(3f, numeric.Median);
        // Row 2: x missing → the median 3, then standardised; indicator 1; c = b.
        Assert.Equal((3f - numeric.Mean) / numeric.Scale, d.Row(2)[0]);
        Assert.Equal([1f, 0f, 1f, 0f], d.Row(2)[1..].ToArray());
        // Row 3: c missing → the most frequent, b; indicator 1.
        Assert.Equal([0f, 1f, 1f], d.Row(3)[2..].ToArray());

        DataTable other = Read("c,x,label\nz,2,p\n", new TableReadOptions { Schema = train.Schema, ClassNames = train.ClassNames });
        EncodedTable encoded = Preprocessor.FromJson(pre.ToJson()).Transform(other);
        Assert.Equal(1, encoded.UnseenCells);
        Assert.Equal(new UnseenCategory("c", "z", 0), encoded.FirstUnseen);
        Assert.Equal([0f, 0f, 0f], encoded.Data.Row(0)[2..].ToArray());
        Assert.Equal(pre.ToJson(), Preprocessor.FromJson(pre.ToJson()).ToJson());
    }

    [Fact]
    public void A_mixed_csv_with_a_separate_test_file_trains_evaluates_and_predicts()
    {
        string train = Write("train.csv", Mixed(300, 1));
        string test = Write("test.csv", Mixed(80, 2, unseen: true));
        string run = Path.Combine(_dir, "run");
        var (code, output, error) = Cli.Run("train", "--data", train, "--test-data", test, "--drop", "id", "--out", run, "--seed", "3");
        Assert.True(code == 0, error + output);
        Assert.Contains(", val loss ", output);
        Assert.Contains("test file (80 rows)", output);
        Assert.Contains("The test rows hold 1 cell whose category the training rows do not have (encoded as all zeros); the first is 'Atlantis' in column 'island' (data row 1).", output);
        using (JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json"))))
        {
            Assert.Equal(80, metrics.RootElement.GetProperty("rows").GetInt32());
            Assert.True(metrics.RootElement.GetProperty("accuracy").GetDouble() > 0.75);
        }

        string model = Path.Combine(run, "model.safetensors");
        (_, ModelInfo info) = ModelFile.Load(model);
        Assert.Equal(["size", "island", "flag", "w"], info.FeatureNames);
        Assert.NotNull(info.Preprocessor);

        (code, output, _) = Cli.Run("evaluate", "--model", model, "--data", test);
        Assert.Equal(0, code);
        Assert.DoesNotContain("same inputs as rows", output);
        Assert.Contains("hold 1 cell whose category the training rows do not have (encoded as all zeros); the first is 'Atlantis' in column 'island' (data row 1).", output);
        (code, output, _) = Cli.Run("evaluate", "--model", model, "--data", train);
        Assert.Equal(0, code);
        Assert.Contains("same inputs as rows the model was trained on", output);

        (code, output, error) = Cli.Run("predict", "--model", model, "--data", test, "--id", "id");
        Assert.Equal(0, code);
        Assert.StartsWith("id,row,predicted,p_big,p_small\nr2-0,1,", output);
        Assert.Contains("the first is 'Atlantis' in column 'island' (data row 1).", error);
    }

    [Fact]
    public void Save_splits_writes_the_test_rows_that_evaluate_then_scores_alike()
    {
        string data = Write("all.csv", Mixed(200, 5));
        string run = Path.Combine(_dir, "splits");
        Assert.Equal(0, Cli.Run("train", "--data", data, "--drop", "id", "--out", run, "--save-splits", "--epochs", "20").Code);
        string[] test = File.ReadAllLines(Path.Combine(run, "test.csv"));
        Assert.Equal("id,size,island,flag,w,label", test[0]);
        Assert.Equal(41, test.Length); // a stratified 20% of 200 rows, and the header
        using JsonDocument metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "metrics.json")));
        var (code, output, _) = Cli.Run("evaluate", "--model", Path.Combine(run, "model.safetensors"), "--data", Path.Combine(run, "test.csv"));
        Assert.Equal(0, code);
        Assert.DoesNotContain("same inputs as rows", output);
        Assert.Contains(metrics.RootElement.GetProperty("accuracy").GetDouble().ToString("F4", System.Globalization.CultureInfo.InvariantCulture), output);
    }

    [Fact]
    public void Early_stopping_is_on_by_default_and_0_turns_it_off()
    {
        string iris = DataTests.RepoFile("data", "iris.csv");
        string noisy = Write("noisy.csv", Mixed(300, 4));
        string a = Path.Combine(_dir, "default"), b = Path.Combine(_dir, "off");
        var (code, output, _) = Cli.Run("train", "--data", noisy, "--drop", "id", "--out", a, "--seed", "1");
        Assert.Equal(0, code);
        int epochs = File.ReadAllLines(Path.Combine(a, "epochs.csv")).Length - 1;
        Assert.InRange(epochs, 11, 199);
        Assert.Contains("Early stopping after epoch", output);
        Assert.Equal(0, Cli.Run("train", "--data", iris, "--out", b, "--epochs", "7", "--early-stopping", "0").Code);
        Assert.Equal(8, File.ReadAllLines(Path.Combine(b, "epochs.csv")).Length);
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(b, "config.json")));
        Assert.Equal(0UL, config.RootElement.GetProperty("seed").GetUInt64());
        Assert.Equal(JsonValueKind.Null, config.RootElement.GetProperty("early_stopping").ValueKind);
        Assert.Equal("constant", config.RootElement.GetProperty("schedule").GetProperty("kind").GetString());
    }

    [Fact]
    public void Drop_last_drops_a_partial_batch()
    {
        string iris = DataTests.RepoFile("data", "iris.csv");
        string run = Path.Combine(_dir, "droplast");
        // 150 rows: 105 train, 15 validation, 30 test; 105 / 32 = 3 full batches (9 rows dropped).
        Assert.Equal(0, Cli.Run("train", "--data", iris, "--out", run, "--epochs", "2", "--early-stopping", "0", "--drop-last").Code);
        Assert.Equal(1 + 6, File.ReadAllLines(Path.Combine(run, "history.csv")).Length);
    }

    [Fact]
    public void A_model_with_a_preprocessor_round_trips_through_its_file()
    {
        DataTable table = Read(Mixed(60, 9));
        var options = new PipelineOptions { Trainer = new TrainerOptions { Epochs = 3 } };
        PipelineResult result = TrainingPipeline.Run(table, options);
        string path = Path.Combine(_dir, "m.safetensors");
        ModelFile.Save(path, result.Model, result.Info);
        (Sequential model, ModelInfo info) = ModelFile.Load(path);
        Assert.Equal(result.Info.Preprocessor!.ToJson(), info.Preprocessor!.ToJson());
        Assert.Equal(result.Info.TrainingRowHashes, info.TrainingRowHashes);
        Dataset x = info.Preprocessor.Transform(table).Data;
        Assert.Equal(Evaluation.PredictProbabilities(result.Model, x, false), Evaluation.PredictProbabilities(model, x, false));
    }
}
