using System.Globalization;
using System.Text;
using CsvHelper;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>predict and evaluate find the model's features by name; every CSV Xent writes is escaped (RFC 4180).</summary>
public sealed class PredictCliTests : IDisposable
{
    private static readonly string[] Classes = ["a,b", "say \"hi\"", "line\nbreak", "plain"];

    private readonly string _dir = Directory.CreateTempSubdirectory("xent-predict-").FullName;
    private readonly string _model;

    public PredictCliTests()
    {
        _model = Path.Combine(_dir, "model.safetensors");
        ModelFile.Save(_model, Mlp.Create(3, [4], Classes.Length, new XentRandom(3)), new ModelInfo { ClassNames = Classes, FeatureNames = ["f1", "f2", "f3"] });
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Data(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Parses CSV with CsvHelper, an independent RFC 4180 reader.</summary>
    private static List<string[]> Parse(string csv)
    {
        using CsvReader reader = CsvReader.FromText(csv, new CsvReaderOptions { HasHeader = false, Separator = ',' });
        var records = new List<string[]>();
        while (reader.Read())
        {
            records.Add([.. Enumerable.Range(0, reader.FieldCount).Select(reader.GetString)]);
        }

        return records;
    }

    [Fact]
    public void Columns_are_matched_by_name_in_any_order_and_extra_columns_and_labels_are_ignored()
    {
        string ordered = Data("ordered.csv", "f1,f2,f3\n0.5,1,-2\n3,0.25,1\n-1,-1,4\n");
        // Shuffled, with an extra text column and a label column holding an unseen class, text and an empty value.
        string shuffled = Data("shuffled.csv", "note,f3,label,f1,extra,f2\nhello,-2,never-seen,0.5,x,1\n\"a, b\",1,,3,y,0.25\nz,4,\"q\"\"q\",-1,,-1\n");
        var (code1, out1, err1) = Cli.Run("predict", "--model", _model, "--data", ordered);
        var (code2, out2, err2) = Cli.Run("predict", "--model", _model, "--data", shuffled);
        Assert.True(code1 == 0, err1);
        Assert.True(code2 == 0, err2);
        Assert.Equal(out1, out2);
        Assert.Equal(4, Parse(out1).Count);
    }

    [Fact]
    public void Class_names_with_commas_quotes_and_line_breaks_round_trip_through_a_CSV_parser()
    {
        string data = Data("d.csv", "f1,f2,f3\n0.5,1,-2\n3,0.25,1\n");
        var (code, output, error) = Cli.Run("predict", "--model", _model, "--data", data);
        Assert.True(code == 0, error);
        List<string[]> records = Parse(output);
        Assert.Equal(["row", "predicted", .. Classes.Select(c => "p_" + c)], records[0]);
        Assert.Equal(3, records.Count);
        foreach (string[] record in records.Skip(1))
        {
            Assert.Equal(2 + Classes.Length, record.Length);
            Assert.Contains(record[1], Classes);
            double sum = record.Skip(2).Sum(v => double.Parse(v, CultureInfo.InvariantCulture));
            Assert.InRange(sum, 0.999, 1.001);
        }
    }

    [Fact]
    public void Id_copies_a_column_into_the_first_output_column_escaped()
    {
        string data = Data("ids.csv", "f2,key,f1,f3\n1,\"id, \"\"one\"\"\",0.5,-2\n0.25,two,3,1\n");
        string preds = Path.Combine(_dir, "preds.csv");
        var (code, _, error) = Cli.Run("predict", "--model", _model, "--data", data, "--id", "key", "--out", preds);
        Assert.True(code == 0, error);
        List<string[]> records = Parse(File.ReadAllText(preds));
        Assert.Equal(["key", "row", "predicted", .. Classes.Select(c => "p_" + c)], records[0]);
        Assert.Equal(["id, \"one\"", "two"], records.Skip(1).Select(r => r[0]));
        Assert.Equal(["1", "2"], records.Skip(1).Select(r => r[1]));
    }

    [Fact]
    public void A_missing_id_column_exits_2_naming_it()
    {
        string data = Data("d.csv", "f1,f2,f3\n0.5,1,-2\n");
        var (code, _, error) = Cli.Run("predict", "--model", _model, "--data", data, "--id", "key");
        Assert.Equal(2, code);
        Assert.Contains("no id column named 'key'", error);
    }

    [Theory]
    [InlineData("predict")]
    [InlineData("evaluate")]
    public void Missing_features_exit_2_naming_them(string command)
    {
        string data = Data("d.csv", "f2,label,other\n1,plain,3\n");
        var (code, _, error) = Cli.Run(command, "--model", _model, "--data", data);
        Assert.Equal(2, code);
        Assert.Equal("xent: error: d.csv:1: missing columns 'f1', 'f3' (2 of the 3 the model reads).", error.Trim());
    }

    [Fact]
    public void Evaluate_matches_features_by_name_and_still_needs_labels()
    {
        string data = Data("e.csv", "label,f3,junk,f1,f2\nplain,-2,x,0.5,1\n\"a,b\",1,y,3,0.25\n");
        var (code, output, error) = Cli.Run("evaluate", "--model", _model, "--data", data);
        Assert.True(code == 0, error);
        Assert.Contains("2 rows", output);
        string unlabelled = Data("u.csv", "f1,f2,f3\n0.5,1,-2\n");
        var (code2, _, error2) = Cli.Run("evaluate", "--model", _model, "--data", unlabelled);
        Assert.Equal(2, code2);
        Assert.Contains("no label column named 'label'", error2);
    }

    [Fact]
    public void Csv_text_escapes_as_RFC_4180_says()
    {
        Assert.Equal("plain", CsvText.Escape("plain"));
        Assert.Equal("\"a,b\"", CsvText.Escape("a,b"));
        Assert.Equal("\"say \"\"hi\"\"\"", CsvText.Escape("say \"hi\""));
        Assert.Equal("\"x\ny\"", CsvText.Escape("x\ny"));
        Assert.Equal("\"x\ry\"", CsvText.Escape("x\ry"));
        Assert.Equal(string.Empty, CsvText.Escape(string.Empty));
        string[] fields = ["a,b", "say \"hi\"", "x\r\ny", " padded ", ""];
        Assert.Equal(fields, Parse(string.Join(",", fields.Select(CsvText.Escape)) + "\n").Single());
    }

    [Fact]
    public void Compare_escapes_run_names_in_its_summary_csv()
    {
        string dir = Path.Combine(_dir, "cmp");
        string name = "say \"hi\", twice";
        var (code, _, error) = Cli.Run("compare", "--data", DataTests.RepoFile("data", "iris.csv"), "--run", name + "=--epochs 2", "--out", dir);
        Assert.True(code == 0, error);
        List<string[]> records = Parse(File.ReadAllText(Path.Combine(dir, "summary.csv")));
        Assert.Equal(records[0].Length, records[1].Length);
        Assert.Contains(name, records[1]);
    }
}
