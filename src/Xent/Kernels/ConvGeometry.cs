namespace Xent.Kernels;

/// <summary>
/// The geometry of a 2-D convolution or pooling window over one sample of C × H × W values (NCHW; a 1-D layer is
/// H = 1 with a kernel of height 1). Output sizes follow PyTorch: ⌊(H + 2·pad − dilation·(kernel − 1) − 1) / stride⌋ + 1.
/// </summary>
internal readonly record struct ConvGeometry(
    int Channels, int Height, int Width, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PadHeight, int PadWidth, int DilationHeight = 1, int DilationWidth = 1)
{
    /// <summary>Output rows (0 or less when the window does not fit).</summary>
    public int OutHeight => Out(Height, KernelHeight, StrideHeight, PadHeight, DilationHeight);

    /// <summary>Output columns (0 or less when the window does not fit).</summary>
    public int OutWidth => Out(Width, KernelWidth, StrideWidth, PadWidth, DilationWidth);

    /// <summary>Output positions per channel.</summary>
    public int OutPlane => OutHeight * OutWidth;

    /// <summary>Input positions per channel.</summary>
    public int Plane => Height * Width;

    /// <summary>Rows of the im2col matrix: C · kernel height · kernel width.</summary>
    public int Rows => Channels * KernelHeight * KernelWidth;

    private static int Out(int size, int kernel, int stride, int pad, int dilation)
    {
        long span = (long)size + (2L * pad) - ((long)dilation * (kernel - 1)) - 1;
        return span < 0 ? 0 : (int)Math.Min(int.MaxValue, (span / stride) + 1);
    }
}
