using System.Diagnostics;
using System.Text;
using Xent.Data;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Tests;

/// <summary>Model files are checked before anything is built: a file cannot make Xent allocate more than it holds, and non-finite weights are refused.</summary>
public sealed class ModelFileBoundsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("xent-model-bounds-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A valid 4 → 3 linear model file, then its tensors and metadata, for tampering.</summary>
    private (Dictionary<string, NamedTensor> Tensors, Dictionary<string, string> Metadata) ValidModel(Standardizer? standardizer = null)
    {
        string path = Path.Combine(_dir, "valid.safetensors");
        ModelFile.Save(path, Mlp.Create(4, [], 3, new XentRandom(1)), new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = ["w", "x", "y", "z"], Standardizer = standardizer });
        SafetensorsFile file = Safetensors.Read(path);
        return (new Dictionary<string, NamedTensor>(file.Tensors), new Dictionary<string, string>(file.Metadata));
    }

    private string Write(string fileName, Dictionary<string, NamedTensor> tensors, Dictionary<string, string> metadata)
    {
        string path = Path.Combine(_dir, fileName);
        Safetensors.Write(path, tensors, metadata);
        return path;
    }

    [Fact]
    public void A_small_file_whose_architecture_claims_a_huge_layer_is_rejected_quickly_in_bounded_memory()
    {
        var (tensors, metadata) = ValidModel();
        metadata["xent.architecture"] = """{"kind":"sequential","in":40000,"out":40000,"layers":[{"kind":"linear","in":40000,"out":40000}]}""";
        metadata["xent.features"] = "[" + string.Join(",", Enumerable.Range(0, 40000).Select(i => $"\"f{i}\"")) + "]";
        string path = Write("liar.safetensors", tensors, metadata);
        Assert.InRange(new FileInfo(path).Length, 1, 1_000_000);

        ModelFile.Load(Path.Combine(_dir, "valid.safetensors")); // warm the JSON and file code paths
        var stopwatch = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        stopwatch.Stop();

        Assert.Contains("liar.safetensors", e.Message);
        Assert.Contains("tensor '0.weight' has shape [3, 4]; the architecture needs [40000, 40000]", e.Message);
        Assert.True(allocated < 10_000_000, $"allocated {allocated:N0} bytes to reject a {new FileInfo(path).Length:N0}-byte file");
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    [Theory]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"linear","in":2147483647,"out":2147483647}]}""", "layer 0 (linear 2147483647 → 2147483647) needs 4611686014132420609 weights")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"linear","in":4,"out":3},{"kind":"segment_head","segments":2147483647,"layers":[{"kind":"linear","in":3,"out":2}]}]}""", "layer 1 (segment_head) has 2147483647 segments")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"linear","in":4,"out":3},{"kind":"relu","in":5}]}""", "layer 1 (relu) takes 5 features but the layer before it gives 3")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"linear","in":4,"out":-3}]}""", "layer 0 (linear) has out = -3")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"conv3d","in":4,"out":3}]}""", "layer 0: unknown layer kind 'conv3d'")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"conv2d","in":4,"out":3}]}""", "layer 0 (conv2d): the input shape is missing; it needs [C, H, W]")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"conv2d","shape":[1,4,4],"channels":2,"kernel":[5,5]}]}""", "layer 0 (conv2d): a 5×5 kernel (dilation 1×1, padding 0×0) does not fit an input of 4×4")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"maxpool2d","shape":[1,4,4],"kernel":[2,2]},{"kind":"linear","in":16,"out":2}]}""", "layer 1 (linear) takes 16 features but the layer before it gives 4")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"batchnorm2d","shape":[2,3]}]}""", "layer 0 (batchnorm2d): the input shape is [2, 3]; it needs [C, H, W]")]
    [InlineData("""{"kind":"sequential","layers":[]}""", "the model (sequential) lists no layers")]
    [InlineData("""{"kind":"sequential","in":5,"out":3,"layers":[{"kind":"linear","in":4,"out":3}]}""", "states 5 → 3 features but its layers map 4 → 3")]
    [InlineData("""{"kind":"sequential","layers":[{"kind":"linear","in":"four","out":3}]}""", "xent.architecture is not what Xent writes (at $.layers[0].in")]
    public void Impossible_or_inconsistent_architectures_are_InvalidDataExceptions_naming_the_layer(string architecture, string message)
    {
        var (tensors, metadata) = ValidModel();
        metadata["xent.architecture"] = architecture;
        string path = Write("arch.safetensors", tensors, metadata);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10_000_000);
        Assert.Contains(message, e.Message);
        Assert.StartsWith("arch.safetensors: ", e.Message);
        Assert.DoesNotContain("Exception", e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }

    [Fact]
    public void Nested_sequentials_and_segment_heads_are_checked_under_their_state_dict_names()
    {
        var inner = new Sequential(new Linear(3, 4, new XentRandom(1)), new ReLU(4), new Linear(4, 2, new XentRandom(2)));
        var model = new Sequential(new Linear(6, 6, new XentRandom(3)), new Sequential(new Linear(6, 6, new XentRandom(4))), new SegmentHead(2, inner));
        model.NameParameters();
        string[] names = [.. model.Parameters.Select(p => p.Name)];
        Assert.Equal(["0.weight", "0.bias", "1.0.weight", "1.0.bias", "2.inner.0.weight", "2.inner.0.bias", "2.inner.2.weight", "2.inner.2.bias"], names);
        IReadOnlyList<KeyValuePair<string, int[]>> shapes = model.Spec.ParameterShapes(out int inputs, out int outputs);
        Assert.Equal(names, shapes.Select(s => s.Key));
        Assert.Equal(model.Parameters.Select(p => p.Shape), shapes.Select(s => s.Value));
        Assert.Equal((6, 4), (inputs, outputs));

        string path = Path.Combine(_dir, "nested.safetensors");
        ModelFile.Save(path, model, new ModelInfo { ClassNames = ["a", "b", "c", "d"], FeatureNames = ["f1", "f2", "f3", "f4", "f5", "f6"] });
        (Sequential back, _) = ModelFile.Load(path);
        Assert.Equal(model.Parameters.SelectMany(p => p.Value), back.Parameters.SelectMany(p => p.Value));

        // The same file with one nested tensor renamed is refused, naming the tensor the architecture needs.
        SafetensorsFile file = Safetensors.Read(path);
        var tensors = file.Tensors.ToDictionary(t => t.Key == "2.inner.2.weight" ? "2.inner.1.weight" : t.Key, t => t.Value);
        string renamed = Write("renamed.safetensors", tensors, new Dictionary<string, string>(file.Metadata));
        Assert.Contains("the tensor '2.inner.2.weight' that the architecture needs is missing", Assert.Throws<InvalidDataException>(() => ModelFile.Load(renamed)).Message);
    }

    [Fact]
    public void A_shape_whose_size_overflows_64_bits_is_an_InvalidDataException()
    {
        // 65536^4 = 2^64 wraps to 0 in unchecked arithmetic, which would match the empty data span [0, 0).
        string path = Path.Combine(_dir, "overflow.safetensors");
        byte[] header = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[65536,65536,65536,65536],"data_offsets":[0,0]}}""");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Read(path));
        Assert.Contains("tensor 'w' has shape [65536,65536,65536,65536], whose size overflows 64 bits", e.Message);
    }

    [Fact]
    public void A_shape_larger_than_its_data_is_refused_before_allocating()
    {
        string path = Path.Combine(_dir, "big.safetensors");
        byte[] header = Encoding.UTF8.GetBytes("""{"w":{"dtype":"F32","shape":[2000000000],"data_offsets":[0,4]}}""");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header, 0, 0, 0, 0]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => Safetensors.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Contains("but its offsets span 4 bytes", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+infinity")]
    [InlineData(float.NegativeInfinity, "-infinity")]
    public void Loading_refuses_a_non_finite_weight_naming_the_tensor(float bad, string described)
    {
        var (tensors, metadata) = ValidModel();
        float[] bias = [.. tensors["0.bias"].Values];
        bias[2] = bad;
        tensors["0.bias"] = new NamedTensor([3], bias);
        string path = Write("nonfinite.safetensors", tensors, metadata);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Equal($"nonfinite.safetensors: tensor '0.bias' holds {described} at index 2; a model's weights must be finite.", e.Message);
    }

    [Fact]
    public void A_double_tensor_too_large_for_float32_is_refused_as_infinite()
    {
        var (tensors, metadata) = ValidModel();
        // Rewrite 0.bias as F64 by hand: 1e300 becomes +infinity in float32.
        string path = Path.Combine(_dir, "f64.safetensors");
        Safetensors.Write(path, tensors, metadata);
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BitConverter.ToUInt64(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd();
        var root = System.Text.Json.Nodes.JsonNode.Parse(header)!.AsObject();
        long biasBegin = root["0.bias"]!["data_offsets"]![0]!.GetValue<long>();
        root["0.bias"] = System.Text.Json.Nodes.JsonNode.Parse($$"""{"dtype":"F64","shape":[3],"data_offsets":[{{biasBegin}},{{biasBegin + 24}}]}""");
        byte[] data = bytes[(8 + (int)n)..];
        byte[] doubles = [.. BitConverter.GetBytes(1.0), .. BitConverter.GetBytes(1e300), .. BitConverter.GetBytes(2.0)];
        byte[] newData = [.. data[..(int)biasBegin], .. doubles];
        byte[] newHeader = Encoding.UTF8.GetBytes(root.ToJsonString());
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)newHeader.Length), .. newHeader, .. newData]);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains("tensor '0.bias' holds +infinity at index 1", e.Message);
    }

    [Theory]
    [InlineData("""{"mean":[0,1e39,0,0],"scale":[1,1,1,1]}""", "xent.standardizer mean[1] is 1e39")]
    [InlineData("""{"mean":[0,0,0,0],"scale":[1,1,"NaN",1]}""", "xent.standardizer scale[2] is \"NaN\"")]
    [InlineData("""{"mean":[0,0,0],"scale":[1,1,1]}""", "the standardizer has 3 values per feature but the model takes 4 features")]
    [InlineData("""{"mean":[0,0,0,0],"scale":[1,0,1,1]}""", "scales > 0")]
    public void Loading_refuses_a_non_finite_or_mismatched_standardizer(string standardizer, string message)
    {
        var (tensors, metadata) = ValidModel();
        metadata["xent.standardizer"] = standardizer;
        string path = Write("std.safetensors", tensors, metadata);
        var e = Assert.Throws<InvalidDataException>(() => ModelFile.Load(path));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("(Parameter", e.Message);
    }

    [Fact]
    public void Saving_a_non_finite_weight_throws_and_writes_nothing()
    {
        Sequential model = Mlp.Create(4, [5], 3, new XentRandom(1));
        model.Parameters[2].Value[7] = float.NaN;
        string path = Path.Combine(_dir, "never.safetensors");
        var e = Assert.Throws<InvalidOperationException>(() => ModelFile.Save(path, model, new ModelInfo { ClassNames = ["a", "b", "c"], FeatureNames = ["w", "x", "y", "z"] }));
        Assert.Contains("tensor '2.weight' holds NaN at index 7", e.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.EnumerateFiles(_dir));
    }

    [Fact]
    public void Saving_a_non_finite_standardizer_throws_and_writes_nothing()
    {
        Sequential model = Mlp.Create(2, [], 2, new XentRandom(1));
        string path = Path.Combine(_dir, "never.safetensors");
        var info = new ModelInfo { ClassNames = ["a", "b"], FeatureNames = ["x", "y"], Standardizer = new Standardizer([0f, float.PositiveInfinity], [1f, 1f]) };
        var e = Assert.Throws<InvalidOperationException>(() => ModelFile.Save(path, model, info));
        Assert.Contains("tensor 'xent.standardizer mean' holds +infinity at index 1", e.Message);
        Assert.False(File.Exists(path));
    }

    [Theory]
    [InlineData("evaluate")]
    [InlineData("predict")]
    public void Evaluate_and_predict_exit_with_2_on_a_model_with_a_NaN_weight(string command)
    {
        var (tensors, metadata) = ValidModel();
        float[] weight = [.. tensors["0.weight"].Values];
        weight[5] = float.NaN;
        tensors["0.weight"] = new NamedTensor([3, 4], weight);
        string model = Write("nan.safetensors", tensors, metadata);
        string data = Path.Combine(_dir, "data.csv");
        File.WriteAllText(data, "w,x,y,z,label\n1,2,3,4,a\n");
        var (code, _, error) = Cli.Run(command, "--model", model, "--data", data);
        Assert.Equal(2, code);
        Assert.Equal("xent: error: nan.safetensors: tensor '0.weight' holds NaN at index 5; a model's weights must be finite.", error.Trim());
    }
}
