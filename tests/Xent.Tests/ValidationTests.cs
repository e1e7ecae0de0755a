using System.Numerics.Tensors;
using Xent.Losses;

namespace Xent.Tests;

/// <summary>Public entry points reject bad arguments with messages that name the problem.</summary>
public class ValidationTests
{
    private static readonly float[] s_x = [0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f];

    [Fact]
    public void Reduction_none_requires_a_per_position_destination()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<int>([0, 1], [2]), new CrossEntropyOptions { Reduction = Reduction.None }));
        Assert.Equal("losses", e.ParamName);
        Assert.Contains("has 0 elements but the per-position loss has 2", e.Message);
    }

    [Fact]
    public void A_gradient_destination_of_the_wrong_length_is_rejected_before_anything_is_written()
    {
        var grad = new float[5];
        Array.Fill(grad, 7f);
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<int>([0, 1], [2]), gradient: grad));
        Assert.Equal("gradient", e.ParamName);
        Assert.All(grad, g => Assert.Equal(7f, g));
    }

    [Fact]
    public void Out_of_range_targets_are_reported_before_the_gradient_is_touched()
    {
        var grad = new float[6];
        Array.Fill(grad, 7f);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<int>([0, 3], [2]), gradient: grad));
        Assert.Equal("target", e.ParamName);
        Assert.StartsWith("Target 3 is out of bounds.", e.Message);
        Assert.All(grad, g => Assert.Equal(7f, g));
    }

    [Fact]
    public void A_strided_input_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [3, 2], [1, 3]), new ReadOnlyTensorSpan<int>([0, 1, 0], [3])));
        Assert.Contains("dense and row-major", e.Message);
    }

    [Fact]
    public void Unsupported_element_types_are_rejected()
    {
        var e = Assert.Throws<NotSupportedException>(() => CrossEntropy.Compute<Half>(new ReadOnlyTensorSpan<Half>(new Half[4], [2, 2]), new ReadOnlyTensorSpan<int>([0, 1], [2])));
        Assert.Contains("float and double", e.Message);
    }

    [Fact]
    public void An_int_target_with_the_input_shape_is_rejected_as_PyTorch_does()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<int>(new int[6], [2, 3])));
        Assert.StartsWith("Expected floating point type for target with class probabilities", e.Message);
    }

    [Fact]
    public void Probability_targets_of_another_shape_say_so()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<float>(new float[4], [2, 2])));
        Assert.Contains("must have the input's shape [2, 3], got [2, 2]", e.Message);
    }

    [Fact]
    public void Unbatched_input_takes_a_target_of_size_1_only()
    {
        var e = Assert.Throws<ArgumentException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [6]), new ReadOnlyTensorSpan<int>([0, 1], [2])));
        Assert.StartsWith("For 1D input, 1D target must have size 1, but got target size: 2", e.Message);
    }

    [Theory]
    [InlineData("none", Reduction.None)]
    [InlineData("MEAN", Reduction.Mean)]
    [InlineData("elementwise_mean", Reduction.Mean)]
    [InlineData("sum", Reduction.Sum)]
    public void Reductions_parse_by_PyTorch_name(string name, Reduction expected) => Assert.Equal(expected, ReductionParser.Parse(name));

    [Fact]
    public void An_unknown_reduction_gives_PyTorchs_message()
    {
        var e = Assert.Throws<ArgumentException>(() => ReductionParser.Parse("avg"));
        Assert.StartsWith("avg is not a valid value for reduction", e.Message);
    }

    [Fact]
    public void Bce_weight_that_does_not_broadcast_is_rejected()
    {
        var options = new BinaryCrossEntropyOptions { Weight = Tensor.Create(new double[] { 1, 2 }, [2]) };
        var e = Assert.Throws<ArgumentException>(() => BinaryCrossEntropyWithLogits.Compute<float>(new ReadOnlyTensorSpan<float>(s_x, [2, 3]), new ReadOnlyTensorSpan<float>(s_x, [2, 3]), options));
        Assert.Contains("weight of shape [2] does not broadcast to the input's shape [2, 3]", e.Message);
    }

    [Fact]
    public void Combined_results_add_their_parts()
    {
        var a = new LossResult(2, 4, 2, 2, Reduction.Sum);
        var b = new LossResult(1, 2, 4, 3, Reduction.Sum);
        LossResult c = a + b;
        Assert.Equal(6, c.WeightedSum);
        Assert.Equal(6, c.TotalWeight);
        Assert.Equal(1, c.Value);
        Assert.Equal(5, c.Count);
    }
}

public class LongTargetValidationTests
{
    [Fact]
    public void The_first_out_of_range_target_is_reported_in_long_target_lists_too()
    {
        int[] y = [.. Enumerable.Range(0, 200).Select(i => i % 3)];
        y[70] = -100;
        y[93] = 7;
        y[150] = -5;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(new float[600], [200, 3]), new ReadOnlyTensorSpan<int>(y, [200])));
        Assert.StartsWith("Target 7 is out of bounds.", e.Message);
        y[93] = 1;
        y[150] = 2;
        LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(new float[600], [200, 3]), new ReadOnlyTensorSpan<int>(y, [200]));
        Assert.Equal(199, r.Count);
        Assert.Equal(199, r.TotalWeight);
    }
}

public class LongWeightedTargetTests
{
    [Theory]
    [InlineData(2, -100)]
    [InlineData(2, 1)]
    [InlineData(5, 0)]
    [InlineData(8, 3)]
    [InlineData(8, -1)]
    [InlineData(9, 4)]
    public void Weighted_totals_count_each_class_and_leave_out_an_ignored_class(int c, int ignore)
    {
        // Up to 8 classes the weights are summed by per-class counts, above by gathers; an ignore_index that is a class
        // leaves that class's targets out of both the total and the count, as PyTorch does.
        const int n = 1003;
        var random = new Xent.Kernels.XentRandom((ulong)((c * 100) + ignore + 200));
        int[] y = [.. Enumerable.Range(0, n).Select(i => i % 11 == 5 ? ignore : random.NextInt(c))];
        double[] w = [.. Enumerable.Range(0, c).Select(k => 0.3 + (1.7 * k))];
        var options = new CrossEntropyOptions { Weight = w, IgnoreIndex = ignore };
        LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(new float[n * c], [n, c]), new ReadOnlyTensorSpan<int>(y, [n]), options);
        double expected = y.Where(t => t != ignore).Sum(t => (double)(float)w[t]);
        Assert.Equal(expected, r.TotalWeight, 9);
        Assert.Equal(y.Count(t => t != ignore), r.Count);
    }

    [Fact]
    public void Weighted_long_target_lists_sum_weights_exactly_and_report_the_first_offender()
    {
        int[] y = [.. Enumerable.Range(0, 203).Select(i => i % 4 == 0 ? -100 : i % 3)];
        var options = new CrossEntropyOptions { Weight = [0.5, 2, 3.25] };
        LossResult r = CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(new float[609], [203, 3]), new ReadOnlyTensorSpan<int>(y, [203]), options);
        double expected = y.Where(t => t >= 0).Sum(t => new[] { 0.5, 2, 3.25 }[t]);
        Assert.Equal(expected, r.TotalWeight, 10);
        Assert.Equal(y.Count(t => t >= 0), r.Count);
        y[101] = 3;
        y[150] = -7;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CrossEntropy.Compute<float>(new ReadOnlyTensorSpan<float>(new float[609], [203, 3]), new ReadOnlyTensorSpan<int>(y, [203]), options));
        Assert.StartsWith("Target 3 is out of bounds.", e.Message);
    }
}
