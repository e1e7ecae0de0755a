using System.Buffers.Binary;
using System.IO.Compression;

namespace Xent.Tests;

/// <summary>A minimal PNG decoder (8-bit RGB or RGBA, non-interlaced), enough to inspect Chromium's screenshots.</summary>
internal sealed record Png(int Width, int Height, byte[] Rgba)
{
    public static Png Decode(byte[] file)
    {
        if (file.Length < 8 || file[1] != (byte)'P' || file[2] != (byte)'N' || file[3] != (byte)'G')
        {
            throw new InvalidDataException("not a PNG file");
        }

        int width = 0, height = 0, colorType = 0, channels = 0;
        using var idat = new MemoryStream();
        for (int pos = 8; pos + 8 <= file.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(file, pos + 4, 4);
            ReadOnlySpan<byte> data = file.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                colorType = data[9];
                if (data[8] != 8 || data[12] != 0 || colorType is not (2 or 6))
                {
                    throw new NotSupportedException($"PNG bit depth {data[8]}, colour type {colorType}, interlace {data[12]} is not supported by the test decoder.");
                }

                channels = colorType == 6 ? 4 : 3;
            }
            else if (type == "IDAT")
            {
                idat.Write(data);
            }

            pos += 12 + length;
        }

        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        byte[] bytes = raw.ToArray();
        int stride = width * channels;
        var previous = new byte[stride];
        var current = new byte[stride];
        var rgba = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
        {
            int filter = bytes[y * (stride + 1)];
            Array.Copy(bytes, (y * (stride + 1)) + 1, current, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? current[i - channels] : 0, b = previous[i], c = i >= channels ? previous[i - channels] : 0;
                int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => pa <= pb && pa <= pc ? a : pb <= pc ? b : c,
                    _ => throw new InvalidDataException($"unknown PNG filter {filter}"),
                };
                current[i] = (byte)(current[i] + predictor);
            }

            for (int x = 0; x < width; x++)
            {
                int o = ((y * width) + x) * 4;
                rgba[o] = current[x * channels];
                rgba[o + 1] = current[(x * channels) + 1];
                rgba[o + 2] = current[(x * channels) + 2];
                rgba[o + 3] = channels == 4 ? current[(x * channels) + 3] : (byte)255;
            }

            (previous, current) = (current, previous);
        }

        return new Png(width, height, rgba);
    }

    /// <summary>Pixels within a small distance of a colour, left of column <paramref name="xLimit"/>.</summary>
    public int Count(byte r, byte g, byte b, int xLimit = int.MaxValue, int tolerance = 6)
    {
        int n = 0;
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Math.Min(Width, xLimit); x++)
            {
                int i = ((y * Width) + x) * 4;
                if (Math.Abs(Rgba[i] - r) <= tolerance && Math.Abs(Rgba[i + 1] - g) <= tolerance && Math.Abs(Rgba[i + 2] - b) <= tolerance)
                {
                    n++;
                }
            }
        }

        return n;
    }

    /// <summary>Share of pixels that are not (near) white.</summary>
    public double InkFraction()
    {
        int ink = 0;
        for (int i = 0; i < Rgba.Length; i += 4)
        {
            if (Rgba[i] < 235 || Rgba[i + 1] < 235 || Rgba[i + 2] < 235)
            {
                ink++;
            }
        }

        return (double)ink / (Width * Height);
    }
}
