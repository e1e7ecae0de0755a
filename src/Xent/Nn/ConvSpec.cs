using Xent.Kernels;

namespace Xent.Nn;

/// <summary>The window fields of a <see cref="LayerSpec"/> (kernel, stride, padding, dilation) shared by the convolution and pooling kinds: reading, checking, describing.</summary>
internal static class ConvSpec
{
    /// <summary>The geometry of a stored convolution, checked; 1-D layers (<paramref name="rank"/> 1) have height 1.</summary>
    public static ConvGeometry Geometry(LayerSpec spec, LayerCheck check, int channels, int height, int width, int rank)
    {
        check.Positive(spec.Channels, "channels", spec.Kind);
        int[] kernel = Sizes(spec.Kernel, null, rank, 1, "kernel", spec, check);
        int[] stride = Sizes(spec.Stride, 1, rank, 1, "stride", spec, check);
        int[] padding = Sizes(spec.Padding, 0, rank, 0, "padding", spec, check);
        int[] dilation = Sizes(spec.Dilation, 1, rank, 1, "dilation", spec, check);
        var options = new ConvOptions { Stride = Pair(stride), Padding = Pair(padding, 0), Dilation = Pair(dilation) };
        try
        {
            return Conv2d.Check(channels, height, width, spec.Channels, Pair(kernel), options, spec.Kind);
        }
        catch (ArgumentException e)
        {
            throw check.Fail(spec.Kind, e.Message[(spec.Kind.Length + 2)..]);
        }
    }

    /// <summary>The geometry of a stored pooling layer, checked (stride defaults to the kernel; padding at most half the kernel, as PyTorch requires).</summary>
    public static ConvGeometry PoolGeometry(LayerSpec spec, LayerCheck check, int channels, int height, int width, int rank)
    {
        int[] kernel = Sizes(spec.Kernel, null, rank, 1, "kernel", spec, check);
        int[] stride = spec.Stride is null ? kernel : Sizes(spec.Stride, null, rank, 1, "stride", spec, check);
        int[] padding = Sizes(spec.Padding, 0, rank, 0, "padding", spec, check);
        if (spec.Dilation is not null || spec.Channels != 0 || spec.Bias is not null)
        {
            throw check.Fail(spec.Kind, "pooling has no dilation, channels or bias.");
        }

        try
        {
            return Pooling.Check(channels, height, width, Pair(kernel), Pair(stride), Pair(padding, 0), spec.Kind);
        }
        catch (ArgumentException e)
        {
            throw check.Fail(spec.Kind, e.Message[(spec.Kind.Length + 2)..]);
        }
    }

    /// <summary>The options of a stored convolution (after <see cref="Geometry"/> accepted it).</summary>
    public static ConvOptions Options(LayerSpec spec, int rank) => new()
    {
        Stride = Pair(spec.Stride is null ? Fill(rank, 1) : [.. spec.Stride]),
        Padding = Pair(spec.Padding is null ? Fill(rank, 0) : [.. spec.Padding], 0),
        Dilation = Pair(spec.Dilation is null ? Fill(rank, 1) : [.. spec.Dilation]),
        Bias = spec.Bias != false,
    };

    /// <summary>Kernel, stride and padding of a stored pooling layer as (height, width) pairs.</summary>
    public static ((int, int) Kernel, (int, int) Stride, (int, int) Padding) PoolWindow(LayerSpec spec)
    {
        int[] kernel = [.. spec.Kernel!];
        return (Pair(kernel), Pair(spec.Stride is null ? kernel : [.. spec.Stride]), Pair(spec.Padding is null ? Fill(kernel.Length, 0) : [.. spec.Padding], 0));
    }

    /// <summary>A convolution entry of a model description: <c>conv2d(OUT, KERNEL, stride=, padding=, dilation=, bias=)</c>.</summary>
    public static (LayerSpec Spec, int[] Output) Describe(ILayerKind kind, LayerArguments args, int[] input, int inputRank)
    {
        int spatial = inputRank - 1;
        int outChannels = args.Int(0, "out", null, 1);
        int[] kernel = args.Sizes(1, "kernel", spatial, null, 1);
        int[] stride = args.Sizes(2, "stride", spatial, Fill(spatial, 1), 1);
        int[] padding = args.Sizes(3, "padding", spatial, Fill(spatial, 0), 0);
        int[] dilation = args.Sizes(4, "dilation", spatial, Fill(spatial, 1), 1);
        bool bias = args.Flag("bias", true);
        args.Done();
        RequireRank(args, input, inputRank);
        var spec = new LayerSpec(kind.Name, 0, 0)
        {
            Shape = input,
            Channels = outChannels,
            Kernel = kernel,
            Stride = stride.All(s => s == 1) ? null : stride,
            Padding = padding.All(p => p == 0) ? null : padding,
            Dilation = dilation.All(d => d == 1) ? null : dilation,
            Bias = bias ? null : false,
        };
        return Finish(kind, spec, args, input);
    }

    /// <summary>A pooling entry of a model description: <c>maxpool2d(KERNEL, stride=KERNEL, padding=0)</c>.</summary>
    public static (LayerSpec Spec, int[] Output) DescribePool(ILayerKind kind, LayerArguments args, int[] input, int inputRank)
    {
        int spatial = inputRank - 1;
        int[] kernel = args.Sizes(0, "kernel", spatial, null, 1);
        int[] stride = args.Sizes(1, "stride", spatial, kernel, 1);
        int[] padding = args.Sizes(2, "padding", spatial, Fill(spatial, 0), 0);
        args.Done();
        RequireRank(args, input, inputRank);
        var spec = new LayerSpec(kind.Name, 0, 0)
        {
            Shape = input,
            Kernel = kernel,
            Stride = stride.SequenceEqual(kernel) ? null : stride,
            Padding = padding.All(p => p == 0) ? null : padding,
        };
        return Finish(kind, spec, args, input);
    }

    /// <summary>Requires an input of the given rank, naming both shapes.</summary>
    public static void RequireRank(LayerArguments args, int[] input, params int[] ranks)
    {
        if (Array.IndexOf(ranks, input.Length) < 0)
        {
            throw args.Fail($"needs an input of shape {string.Join(" or ", ranks.Select(LayerCheck.RankText))} but gets {LayerShapes.Format(input)}{(input.Length == 1 ? "; a flat row becomes an image or a sequence with --input-shape (for example 1x28x28 or 2x1000)" : string.Empty)}.");
        }
    }

    /// <summary>Checks a described layer through its kind (the same check a model file gets), naming the input shape when it does not fit.</summary>
    public static (LayerSpec Spec, int[] Output) Finish(ILayerKind kind, LayerSpec spec, LayerArguments args, int[] input)
    {
        LayerShapes shapes;
        try
        {
            shapes = kind.Check(spec, new LayerCheck(string.Empty, "x", [], []));
        }
        catch (FormatException e)
        {
            // "x (kind): message" → "layer 3 (text): message, for the input [C, H, W]".
            string message = e.Message[(e.Message.IndexOf("): ", StringComparison.Ordinal) is int at && at >= 0 ? at + 3 : 0)..];
            throw args.Fail($"{message.TrimEnd('.')} (input {LayerShapes.Format(input)}).");
        }

        return (spec with { In = LayerShapes.Size(shapes.Input), Out = LayerShapes.Size(shapes.Output) }, shapes.Output);
    }

    private static int[] Sizes(IReadOnlyList<int>? values, int? fallback, int rank, int minimum, string field, LayerSpec spec, LayerCheck check)
    {
        if (values is null)
        {
            return fallback is int f ? Fill(rank, f) : throw check.Fail(spec.Kind, $"has no {field}.");
        }

        if (values.Count != rank || values.Any(v => v < minimum))
        {
            throw check.Fail(spec.Kind, $"{field} {LayerShapes.Format(values)} must hold {rank} size{(rank == 1 ? string.Empty : "s")} of at least {minimum}.");
        }

        return [.. values];
    }

    private static int[] Fill(int rank, int value) => [.. Enumerable.Repeat(value, rank)];

    /// <summary>(height, width) of a 2-D window, or of a 1-D one as a single row: height 1 (kernel, stride, dilation) or <paramref name="height"/> (0 for padding).</summary>
    private static (int, int) Pair(int[] values, int height = 1) => values.Length == 1 ? (height, values[0]) : (values[0], values[1]);
}
