using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Data;

namespace Xent.Tests;

/// <summary>Label columns a user gets wrong: a real-valued target, an index out of range, a name in the wrong case.</summary>
public sealed class LabelColumnMessageTests
{
    [Fact]
    public void A_real_valued_label_is_refused_and_class_codes_are_not()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xent-rv-{Guid.NewGuid():N}.csv");
        try
        {
            File.WriteAllLines(path, ["a,y,k", .. Enumerable.Range(0, 40).Select(i => $"{i},{1.25 + (i * 0.5)},{i % 25}")]);
            DataTable real = CsvTableReader.Read(path, new TableReadOptions { Label = "y" });
            var e = Assert.Throws<InputException>(() => RealValuedLabel.ThrowIfRealValued(real, path));
            Assert.Contains("real-valued target", e.Message, StringComparison.Ordinal);
            DataTable codes = CsvTableReader.Read(path, new TableReadOptions { Label = "k" });
            RealValuedLabel.ThrowIfRealValued(codes, path); // 25 whole-number classes: no complaint
            var index = Assert.Throws<DataFormatException>(() => CsvTableReader.Read(path, new TableReadOptions { Label = "7" }));
            Assert.Contains("--label 7: no such column; the file has 3 columns, so an index is 0 to 2", index.Message, StringComparison.Ordinal);
            var near = Assert.Throws<DataFormatException>(() => CsvTableReader.Read(path, new TableReadOptions { Label = "Y" }));
            Assert.Contains("Did you mean 'y'?", near.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
