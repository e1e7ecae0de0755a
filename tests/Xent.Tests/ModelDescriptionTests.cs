using Xent.Cli.LossCases;
using Xent.Cli.Training;
using Xent.Nn;

namespace Xent.Tests;

/// <summary>The model description: parsing, shape inference and its messages, and the JSON/YAML files of --model.</summary>
public class ModelDescriptionTests
{
    [Fact]
    public void The_compact_syntax_parses_kinds_and_positional_and_named_arguments()
    {
        IReadOnlyList<LayerEntry> layers = ModelDescription.Parse(" conv2d(32, 3, padding=1) ,ReLU,maxpool(2),flatten,linear(128),relu,linear");
        Assert.Equal(["conv2d", "relu", "maxpool", "flatten", "linear", "relu", "linear"], layers.Select(l => l.Kind));
        Assert.Equal(["32", "3"], layers[0].Positional);
        Assert.Equal("1", layers[0].Named["padding"]);
        Assert.Equal("conv2d(32,3,padding=1)", layers[0].ToString());
    }

    [Fact]
    public void Shapes_are_inferred_and_the_last_linear_gets_the_class_count()
    {
        LayerSpec spec = ModelDescription.Build(ModelDescription.Parse("conv2d(32,3),relu,maxpool(2),conv2d(64,3),relu,maxpool(2),flatten,linear(128),relu,linear"), [1, 28, 28], 10);
        Assert.Equal(784, spec.In);
        Assert.Equal(10, spec.Out);
        Assert.Equal([26 * 26 * 32, 26 * 26 * 32, 13 * 13 * 32, 11 * 11 * 64, 11 * 11 * 64, 5 * 5 * 64, 1600, 128, 128, 10], spec.Layers!.Select(l => l.Out));
        Assert.Equal([32, 13, 13], spec.Layers![3].Shape);
        Assert.Equal("maxpool2d", spec.Layers[2].Kind);
        Assert.Equal("maxpool1d", ModelDescription.Build(ModelDescription.Parse("conv1d(4,5),maxpool(2),flatten,linear"), [2, 100], 2).Layers![1].Kind);
        Assert.Equal("batchnorm1d", ModelDescription.Build(ModelDescription.Parse("linear(8),batchnorm,relu,linear"), [5], 2).Layers![1].Kind);
    }

    [Theory]
    [InlineData("conv2d(32,3", "'(' without its ')'")]
    [InlineData("conv2d(32,3))", "')' without its '('")]
    [InlineData("", "empty")]
    [InlineData("relu,,linear", "layer 2 is empty")]
    [InlineData("conv2d(32,3,padding=1,padding=2)", "'padding' is given twice")]
    [InlineData("conv2d(32,padding=1,3)", "put positional arguments first")]
    [InlineData("conv2d((32),3)", "cannot nest")]
    [InlineData("linear(8) x", "text after")]
    public void Malformed_descriptions_are_refused_with_the_layer_named(string text, string message)
    {
        FormatException e = Assert.Throws<FormatException>(() => ModelDescription.Parse(text));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("conv2d(8,3),relu,linear", "1x28x28", "layer 3 (linear): needs a flat input [features] but gets [8, 26, 26]")]
    [InlineData("conv2d(8,3),flatten,linear", "784", "layer 1 (conv2d(8,3)): needs an input of shape [C, H, W] but gets [784]")]
    [InlineData("conv1d(8,3),flatten,linear", "1x28x28", "layer 1 (conv1d(8,3)): needs an input of shape [C, L] but gets [1, 28, 28]")]
    [InlineData("conv2d(8,3),maxpool(2),conv2d(8,15),flatten,linear", "1x28x28", "layer 3 (conv2d(8,15)): a 15×15 kernel (dilation 1×1, padding 0×0) does not fit an input of 13×13 (input [8, 13, 13])")]
    [InlineData("maxpool(3,padding=2),flatten,linear", "1x8x8", "padding 2×2 is more than half the 3×3 kernel")]
    [InlineData("foo(3),linear", "4", "layer 1 (foo(3)): unknown layer kind 'foo'; known kinds:")]
    [InlineData("conv2d(x,3),flatten,linear", "1x8x8", "layer 1 (conv2d(x,3)): out is 'x'; it must be a whole number of at least 1")]
    [InlineData("maxpool(2,bogus=3),flatten,linear", "1x8x8", "layer 1 (maxpool(2,bogus=3)): has no argument 'bogus'")]
    [InlineData("conv2d(8),flatten,linear", "1x8x8", "needs kernel (argument 2)")]
    [InlineData("conv2d(8,kernal=3),flatten,linear", "1x8x8", "layer 1 (conv2d(8,kernal=3)): needs kernel (argument 2); it is given 'kernal', which it does not have: did you mean 'kernel'?")]
    [InlineData("conv2d(8,3),flatten", "1x8x8", "the model ends with outputs of shape [288], but the data have 10 classes")]
    [InlineData("linear(4),linear(3)", "5", "the model ends with outputs of shape [3], but the data have 10 classes")]
    [InlineData("linear(8),relu,linear,softmax", "4", "layer 4 (softmax): a model ends with its logits")]
    [InlineData("linear,log_softmax", "4", "layer 2 (log_softmax): a model ends with its logits (linear, or conv for per-position outputs); the loss applies log-softmax itself")]
    public void Shape_and_argument_errors_name_the_layer_and_the_shapes(string text, string shape, string message)
    {
        FormatException e = Assert.Throws<FormatException>(() => ModelDescription.Build(ModelDescription.Parse(text), ModelDescription.ParseShape(shape), 10));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_kind_is_refused_before_any_shape_is_known_with_the_nearest_kind()
    {
        FormatException e = Assert.Throws<FormatException>(() => ModelDescription.CheckKinds(ModelDescription.Parse("conv2d(8,3),relu,maxpol(2),flatten,linear")));
        Assert.StartsWith("layer 3 (maxpol(2)): unknown layer kind 'maxpol'; did you mean 'maxpool'? known kinds: ", e.Message, StringComparison.Ordinal);
        e = Assert.Throws<FormatException>(() => ModelDescription.CheckKinds(ModelDescription.Parse("linear(8),transformer,linear")));
        Assert.DoesNotContain("did you mean", e.Message, StringComparison.Ordinal);
        ModelDescription.CheckKinds(ModelDescription.Parse("conv2d(8,3),batchnorm,relu,maxpool(2),gap,dropout(0.1),linear"));

        // The CLI refuses it before reading the data: a data file that does not exist is not reached.
        var (code, stdout, stderr) = Cli.Run("train", "--data", "no-such-file.csv", "--out", Path.Combine(Path.GetTempPath(), "xent-never-" + Guid.NewGuid().ToString("N")), "--model", "conv2d(8,3),relu,maxpol(2),flatten,linear");
        Assert.True(code == 2, stdout + stderr);
        Assert.Contains("--model: layer 3 (maxpol(2)): unknown layer kind 'maxpol'; did you mean 'maxpool'?", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1x28x28", new[] { 1, 28, 28 })]
    [InlineData("2x1000", new[] { 2, 1000 })]
    [InlineData("784", new[] { 784 })]
    public void Input_shapes_parse(string text, int[] shape) => Assert.Equal(shape, ModelDescription.ParseShape(text));

    [Theory]
    [InlineData("1x0x28")]
    [InlineData("1x2x3x4")]
    [InlineData("axb")]
    public void Bad_input_shapes_are_refused(string text) => Assert.Throws<FormatException>(() => ModelDescription.ParseShape(text));

    [Fact]
    public void A_JSON_or_YAML_file_lists_layers_as_strings_or_objects()
    {
        string dir = Directory.CreateTempSubdirectory("xent-model-").FullName;
        try
        {
            string json = Path.Combine(dir, "m.json");
            File.WriteAllText(json, """{"layers": ["conv2d(8,3)", {"kind": "maxpool", "kernel": 2}, "flatten", {"kind": "linear"}]}""");
            string yaml = Path.Combine(dir, "m.yaml");
            File.WriteAllText(yaml, "- conv2d(8,3)\n- kind: maxpool\n  kernel: [2, 2]\n- flatten,linear\n");
            foreach (string path in new[] { json, yaml })
            {
                IReadOnlyList<LayerEntry> layers = ModelOption.Read(path);
                Assert.Equal(["conv2d", "maxpool", "flatten", "linear"], layers.Select(l => l.Kind));
                LayerSpec spec = ModelDescription.Build(layers, [1, 10, 10], 3);
                Assert.Equal(3, spec.Out);
            }

            string bad = Path.Combine(dir, "bad.yaml");
            File.WriteAllText(bad, "- conv2d(8,3)\n- kernel: 2\n");
            InputException e = Assert.Throws<InputException>(() => ModelOption.Read(bad));
            Assert.Contains("bad.yaml:2:3: a layer object needs \"kind\"", e.Message, StringComparison.Ordinal);
            Assert.Contains("not found", Assert.Throws<InputException>(() => ModelOption.Read(Path.Combine(dir, "missing.json"))).Message, StringComparison.Ordinal);
            string extra = Path.Combine(dir, "extra.yaml");
            File.WriteAllText(extra, "layers:\n  - relu\n  - linear\nlayer: [relu]\n");
            Assert.Contains("extra.yaml:4:1: unknown key 'layer'", Assert.Throws<InputException>(() => ModelOption.Read(extra)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
