using Microsoft.ML.OnnxRuntime;
using Xent.Export;
using Xent.Kernels;
using Xent.Nn;
using Xent.Training;

namespace Xent.Benchmarks;

/// <summary>
/// Issue 11: batch prediction of a 784-256-10 MLP, <see cref="Classifier"/>'s span path against ONNX Runtime running
/// the same model exported by <see cref="OnnxExport"/>, on the same rows and thread count, at batches of 1, 64 and
/// 10,000 (both include the softmax; goal: Xent at least as fast, ratio ≤ 1).
/// </summary>
internal static class PredictSuite
{
    public static IEnumerable<Row> Run(int threads)
    {
        Parallelism.MaxDegree = threads;
        string dir = Directory.CreateTempSubdirectory("xent-bench-predict-").FullName;
        try
        {
            var random = new XentRandom(5);
            Sequential model = Mlp.Create(784, [256], 10, random);
            var info = new ModelInfo { ClassNames = [.. Enumerable.Range(0, 10).Select(i => $"c{i}")], FeatureNames = [.. Enumerable.Range(0, 784).Select(i => $"p{i}")] };
            string modelPath = Path.Combine(dir, "m.safetensors"), onnxPath = Path.Combine(dir, "m.onnx");
            ModelFile.Save(modelPath, model, info);
            OnnxExport.Write(onnxPath, model, info);
            var classifier = Classifier.Load(modelPath);
            using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
            using var session = new InferenceSession(onnxPath, sessionOptions);
            foreach (int batch in new[] { 1, 64, 10_000 })
            {
                float[] x = [.. Enumerable.Range(0, batch * 784).Select(_ => random.NextSingle(-1, 1))];
                var xent = new float[batch * 10];
                using var input = OrtValue.CreateTensorValueFromMemory(x, [batch, 784]);
                var ort = new float[batch * 10];
                using var output = OrtValue.CreateTensorValueFromMemory(ort, [batch, 10]);
                using var runOptions = new RunOptions();
                string[] inputNames = ["input"], outputNames = ["probabilities"];
                OrtValue[] inputs = [input], outputs = [output];
                int repeat = batch == 1 ? 2000 : batch == 64 ? 200 : 2;
                double ours = Measure.MedianMilliseconds(() =>
                {
                    for (int i = 0; i < repeat; i++)
                    {
                        classifier.PredictProbabilities(x, batch, xent);
                    }
                }) / repeat;
                double theirs = Measure.MedianMilliseconds(() =>
                {
                    for (int i = 0; i < repeat; i++)
                    {
                        session.Run(runOptions, inputNames, inputs, outputNames, outputs);
                    }
                }) / repeat;
                double maxDiff = xent.Zip(ort, (a, b) => Math.Abs(a - b)).Max();
                yield return new Row($"Classifier predict 784-256-10, batch {batch}", $"{batch}x784", ours, "ONNX Runtime 1.31.1, same model", theirs, FormattableString.Invariant($"max Δp {maxDiff:G2}; goal ≤ 1x"));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
