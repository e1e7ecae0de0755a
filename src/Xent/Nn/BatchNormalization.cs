using Xent.Kernels;

namespace Xent.Nn;

/// <summary>
/// The computation shared by <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/>, over samples of C channels of S
/// positions each (S = 1 for (N, C) input). Training normalises each channel by the batch's mean and biased variance
/// and updates the running statistics with momentum 0.1 (the unbiased variance for running_var, as PyTorch does);
/// evaluation normalises by the running statistics. Channel sums are taken in double, in a fixed order.
/// </summary>
internal sealed class BatchNormalization
{
    /// <summary>PyTorch's default ε.</summary>
    public const double Epsilon = 1e-5;

    /// <summary>PyTorch's default momentum.</summary>
    public const double Momentum = 0.1;

    private readonly double[] _mean;
    private readonly double[] _inverseStd;
    private bool _trained;

    public BatchNormalization(int channels, int positions, string layer)
    {
        Channels = channels;
        Positions = positions;
        Layer = layer;
        Weight = new Parameter("weight", channels);
        Bias = new Parameter("bias", channels);
        RunningMean = new Parameter("running_mean", channels);
        RunningVar = new Parameter("running_var", channels);
        BatchesTracked = new Parameter("num_batches_tracked") { Integer = true };
        Array.Fill(Weight.Value, 1f);
        Array.Fill(RunningVar.Value, 1f);
        _mean = new double[channels];
        _inverseStd = new double[channels];
        Parameters = [Weight, Bias];
        Buffers = [RunningMean, RunningVar, BatchesTracked];
        _work = new ChannelWork(this);
    }

    public int Channels { get; }

    public int Positions { get; }

    public string Layer { get; }

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    public Parameter RunningMean { get; }

    public Parameter RunningVar { get; }

    public Parameter BatchesTracked { get; }

    public Parameter[] Parameters { get; }

    public Parameter[] Buffers { get; }

    public unsafe void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        long count = (long)batch * Positions;
        _trained = training;
        if (training && count < 2)
        {
            throw new ArgumentException($"{Layer}: training needs more than 1 value per channel, but the batch gives {count} (a last batch of 1 row? Use --drop-last or another --batch-size).", nameof(input));
        }

        fixed (float* x = input)
        fixed (float* y = output)
        {
            Run(new ChannelJob { Input = x, Output = y, Batch = batch, Training = training });
        }

        if (training)
        {
            BatchesTracked.Value[0]++;
        }
    }

    public unsafe void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        fixed (float* x = input)
        fixed (float* dy = outputGradient)
        fixed (float* dx = inputGradient)
        {
            Run(new ChannelJob { Input = x, OutputGradient = dy, InputGradient = inputGradient.IsEmpty ? null : dx, Batch = batch, Backward = true });
        }
    }

    /// <summary>The channels of one call: each channel's arithmetic is independent of the others (and of the thread that runs it), so large layers split them over the worker pool with the same results.</summary>
    private void Run(in ChannelJob job)
    {
        _work.Job = job;
        long elements = (long)job.Batch * Channels * Positions;
        if (Channels > 1 && elements >= Kernels.Parallelism.ParallelThreshold && Kernels.Parallelism.MaxDegree > 1)
        {
            Kernels.WorkerPool.For(Channels, Kernels.Parallelism.MaxDegree, _work);
        }
        else
        {
            for (int ch = 0; ch < Channels; ch++)
            {
                _work.Run(ch);
            }
        }

        _work.Job = default;
    }

    private readonly ChannelWork _work;

    private unsafe struct ChannelJob
    {
        public float* Input;
        public float* Output;
        public float* OutputGradient;
        public float* InputGradient;
        public int Batch;
        public bool Training;
        public bool Backward;
    }

    private sealed unsafe class ChannelWork(BatchNormalization owner) : Kernels.IParallelWork
    {
        public ChannelJob Job;

        public void Run(int index)
        {
            ChannelJob j = Job;
            long elements = (long)j.Batch * owner.Channels * owner.Positions;
            var input = new ReadOnlySpan<float>(j.Input, (int)elements);
            if (j.Backward)
            {
                owner.BackwardChannel(index, input, new ReadOnlySpan<float>(j.OutputGradient, (int)elements), j.InputGradient == null ? default : new Span<float>(j.InputGradient, (int)elements), j.Batch);
            }
            else
            {
                owner.ForwardChannel(index, input, new Span<float>(j.Output, (int)elements), j.Batch, j.Training);
            }
        }
    }

    private void ForwardChannel(int ch, ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int c = Channels, s = Positions;
        long count = (long)batch * s;
        if (training)
        {
            // Two passes over the channel's slices (mean, then Σ(x − mean)²), in double lanes, slices in sample order.
            double sum = 0;
            for (int n = 0; n < batch; n++)
            {
                sum += ChannelStats.Sum(input.Slice(((n * c) + ch) * s, s));
            }

            double mean = sum / count, squares = 0;
            for (int n = 0; n < batch; n++)
            {
                squares += ChannelStats.SumSquaredDeviations(input.Slice(((n * c) + ch) * s, s), mean);
            }

            double variance = squares / count;
            _mean[ch] = mean;
            _inverseStd[ch] = 1 / Math.Sqrt(variance + Epsilon);
            RunningMean.Value[ch] = (float)(((1 - Momentum) * RunningMean.Value[ch]) + (Momentum * mean));
            RunningVar.Value[ch] = (float)(((1 - Momentum) * RunningVar.Value[ch]) + (Momentum * squares / (count - 1)));
        }
        else
        {
            _mean[ch] = RunningMean.Value[ch];
            _inverseStd[ch] = 1 / Math.Sqrt(RunningVar.Value[ch] + Epsilon);
        }

        float scale = (float)(_inverseStd[ch] * Weight.Value[ch]);
        float shift = (float)(Bias.Value[ch] - (_mean[ch] * _inverseStd[ch] * Weight.Value[ch]));
        for (int n = 0; n < batch; n++)
        {
            int at = ((n * c) + ch) * s;
            ChannelStats.Affine(input.Slice(at, s), output.Slice(at, s), scale, shift);
        }
    }

    private void BackwardChannel(int ch, ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        int c = Channels, s = Positions;
        long count = (long)batch * s;
        double mean = _mean[ch], inverse = _inverseStd[ch];
        double sumDy = 0, sumDyCentered = 0;
        for (int n = 0; n < batch; n++)
        {
            int at = ((n * c) + ch) * s;
            (double dyPart, double centeredPart) = ChannelStats.BackwardSums(input.Slice(at, s), outputGradient.Slice(at, s), mean);
            sumDy += dyPart;
            sumDyCentered += centeredPart;
        }

        double sumDyXhat = sumDyCentered * inverse; // Σ dy·x̂, x̂ = (x − mean)/σ
        Weight.Gradient[ch] += (float)sumDyXhat;
        Bias.Gradient[ch] += (float)sumDy;
        if (inputGradient.IsEmpty)
        {
            return;
        }

        double gain = Weight.Value[ch] * inverse;
        // Training: dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂)) = gain·dy + b·(x − mean) + c, with
        // b = −gain·mean(dy·x̂)/σ and c = −gain·mean(dy); evaluation: the statistics are constants, dx = γ/σ · dy.
        double meanDy = _trained ? sumDy / count : 0, meanDyXhat = _trained ? sumDyXhat / count : 0;
        float b = (float)(-gain * meanDyXhat * inverse), cTerm = (float)(-gain * meanDy);
        for (int n = 0; n < batch; n++)
        {
            int at = ((n * c) + ch) * s;
            ChannelStats.BackwardAffine(input.Slice(at, s), outputGradient.Slice(at, s), inputGradient.Slice(at, s), (float)gain, (float)mean, b, cTerm);
        }
    }
}
