using Xent.Kernels;

namespace Xent.Tests;

public class Transpose16Tests
{
    [Fact]
    public unsafe void Block_transposes_16_by_16_with_any_strides()
    {
        if (!Transpose16.IsSupported)
        {
            return; // AVX-512 only; the lane path keeps its scalar transpose elsewhere
        }

        const int SourceStride = 37, DestinationStride = 21;
        float[] source = [.. Enumerable.Range(0, 16 * SourceStride).Select(i => (float)i)];
        float[] destination = new float[16 * DestinationStride];
        fixed (float* s = source, d = destination)
        {
            Transpose16.Block(s, SourceStride, d, DestinationStride);
        }

        for (int i = 0; i < 16; i++)
        {
            for (int j = 0; j < 16; j++)
            {
                Assert.Equal(source[(i * SourceStride) + j], destination[(j * DestinationStride) + i]);
            }
        }
    }
}

public class Transpose8Tests
{
    [Fact]
    public unsafe void Block_transposes_8_by_8_with_any_strides()
    {
        if (!Transpose8.IsSupported)
        {
            return; // AVX only; the lane path keeps its scalar transpose elsewhere
        }

        const int SourceStride = 19, DestinationStride = 11;
        float[] source = [.. Enumerable.Range(0, 8 * SourceStride).Select(i => (float)i)];
        float[] destination = new float[8 * DestinationStride];
        fixed (float* s = source, d = destination)
        {
            Transpose8.Block(s, SourceStride, d, DestinationStride);
        }

        for (int i = 0; i < 8; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                Assert.Equal(source[(i * SourceStride) + j], destination[(j * DestinationStride) + i]);
            }

            for (int j = 8; j < DestinationStride; j++)
            {
                Assert.Equal(0f, destination[(i * DestinationStride) + j]); // nothing written between the rows
            }
        }
    }
}
