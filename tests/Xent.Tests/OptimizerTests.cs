using Xent.Kernels;
using System.Text.Json;
using Xent.Nn;
using Xent.Optim;

namespace Xent.Tests;

/// <summary>Optimizer trajectories against torch.optim on fixed gradient sequences (tools/generate_training_cases.py).</summary>
public class OptimizerTests
{
    public static IEnumerable<object[]> Cases()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "optimizer-cases.json")));
        int i = 0;
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            yield return [i++, c.GetProperty("optimizer").GetString()!, c.GetProperty("options").GetRawText()];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trajectory_matches_PyTorch(int index, string kind, string options)
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "optimizer-cases.json")));
        JsonElement c = doc.RootElement.GetProperty("cases")[index];
        JsonElement o = c.GetProperty("options");
        double Get(string name, double fallback) => o.TryGetProperty(name, out JsonElement e) ? e.GetDouble() : fallback;
        var p = new Parameter("p", 6);
        float[] initial = [.. c.GetProperty("initial").EnumerateArray().Select(e => e.GetSingle())];
        initial.CopyTo(p.Value, 0);
        Optimizer optimizer = kind switch
        {
            "sgd" => new Sgd([p], new SgdOptions
            {
                LearningRate = Get("lr", 0.01), Momentum = Get("momentum", 0), Dampening = Get("dampening", 0),
                Nesterov = o.TryGetProperty("nesterov", out JsonElement n) && n.GetBoolean(), WeightDecay = Get("weight_decay", 0),
            }),
            "adam" => new Adam([p], AdamOptionsFrom(o, 0)),
            _ => Adam.AdamW([p], AdamOptionsFrom(o, 0.01)),
        };
        int step = 0;
        foreach (JsonElement g in c.GetProperty("gradients").EnumerateArray())
        {
            float[] grad = [.. g.EnumerateArray().Select(e => e.GetSingle())];
            grad.CopyTo(p.Gradient, 0);
            optimizer.Step();
            float[] expected = [.. c.GetProperty("trajectory")[step].EnumerateArray().Select(e => e.GetSingle())];
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - p.Value[i]) <= 1e-6f * Math.Max(1, Math.Abs(expected[i])), $"{options} step {step} [{i}]: {expected[i]} vs {p.Value[i]}");
            }

            step++;
        }

        Assert.Equal(6, step);
    }

    private static AdamOptions AdamOptionsFrom(JsonElement o, double defaultDecay)
    {
        double[] betas = o.TryGetProperty("betas", out JsonElement b) ? [.. b.EnumerateArray().Select(e => e.GetDouble())] : [0.9, 0.999];
        return new AdamOptions
        {
            LearningRate = o.GetProperty("lr").GetDouble(),
            Beta1 = betas[0],
            Beta2 = betas[1],
            Epsilon = o.TryGetProperty("eps", out JsonElement e) ? e.GetDouble() : 1e-8,
            WeightDecay = o.TryGetProperty("weight_decay", out JsonElement w) ? w.GetDouble() : defaultDecay,
        };
    }

    [Fact]
    public void State_round_trips_so_a_resumed_optimizer_continues_identically()
    {
        var a = new Parameter("w", 3);
        var b = new Parameter("w", 3);
        var optA = new Adam([a]);
        var optB = new Adam([b]);
        float[] g = [0.5f, -1f, 2f];
        for (int i = 0; i < 3; i++)
        {
            g.CopyTo(a.Gradient, 0);
            optA.Step();
        }

        a.Value.CopyTo(b.Value, 0);
        optB.ImportState(optA.ExportState().ToDictionary(kv => kv.Key, kv => (float[])kv.Value.Clone()), optA.Steps);
        g.CopyTo(a.Gradient, 0);
        g.CopyTo(b.Gradient, 0);
        optA.Step();
        optB.Step();
        Assert.Equal(a.Value, b.Value);
        Assert.Throws<FormatException>(() => optB.ImportState(new Dictionary<string, float[]>(), 1));
    }

    [Fact]
    public void Schedules_follow_PyTorch_formulas()
    {
        Assert.Equal(0.1, new ConstantSchedule().RateAt(0.1, 7));
        Assert.Equal(0.1 * 0.5 * 0.5, new StepSchedule(3, 0.5).RateAt(0.1, 7), 12);
        var cosine = new CosineSchedule(10, 0.001);
        Assert.Equal(0.1, cosine.RateAt(0.1, 0), 12);
        Assert.Equal(0.001, cosine.RateAt(0.1, 10), 12);
        Assert.Equal(0.001 + (0.099 / 2), cosine.RateAt(0.1, 5), 12);
    }

    [Fact]
    public void Invalid_settings_are_rejected()
    {
        var p = new Parameter("w", 1);
        Assert.Throws<ArgumentException>(() => new Sgd([p], new SgdOptions { Nesterov = true }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], new SgdOptions { LearningRate = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], new AdamOptions { Beta1 = 1 }));
    }
}

public class OptimizerVectorPathTests
{
    [Theory]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void The_vector_loop_gives_the_scalar_formulas_bits(string kind)
    {
        var random = new Xent.Kernels.XentRandom(8);
        var p = new Parameter("w", 40);
        for (int i = 0; i < 40; i++)
        {
            p.Value[i] = random.NextSingle(-1, 1);
        }

        float[] theta = (float[])p.Value.Clone(), m = new float[40], v = new float[40];
        Optimizer opt = kind switch
        {
            "sgd" => new Sgd([p], new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Dampening = 0.1, WeightDecay = 0.01 }),
            "nesterov" => new Sgd([p], new SgdOptions { LearningRate = 0.1, Momentum = 0.9, Nesterov = true }),
            "adam" => new Adam([p], new AdamOptions { LearningRate = 0.01 }),
            _ => Adam.AdamW([p], new AdamOptions { LearningRate = 0.01, WeightDecay = 0.1 }),
        };
        for (int step = 1; step <= 5; step++)
        {
            for (int i = 0; i < 40; i++)
            {
                p.Gradient[i] = random.NextSingle(-1, 1);
            }

            opt.Step();
            for (int i = 0; i < 40; i++)
            {
                float g = p.Gradient[i];
                switch (kind)
                {
                    case "sgd":
                        g += 0.01f * theta[i];
                        m[i] = step == 1 ? g : (0.9f * m[i]) + ((1 - 0.1f) * g);
                        theta[i] -= 0.1f * m[i];
                        break;
                    case "nesterov":
                        m[i] = step == 1 ? g : (0.9f * m[i]) + (1f * g);
                        theta[i] -= 0.1f * (g + (0.9f * m[i]));
                        break;
                    default:
                        float lr = 0.01f, wd = kind == "adamw" ? 0.1f : 0f, b1 = 0.9f, b2 = 0.999f;
                        if (wd != 0)
                        {
                            theta[i] *= 1 - (lr * wd);
                        }

                        m[i] = (m[i] * b1) + (g * (1 - b1));
                        v[i] = (v[i] * b2) + ((1 - b2) * g * g);
                        float denom = (MathF.Sqrt(v[i]) / (float)Math.Sqrt(1 - Math.Pow(0.999, step))) + 1e-8f;
                        theta[i] -= (float)(0.01 / (1 - Math.Pow(0.9, step))) * (m[i] / denom);
                        break;
                }
            }

            Assert.Equal(theta, p.Value);
        }
    }
}
