namespace Xent.Optim;

/// <summary>A learning rate as a function of the epoch (schedules step once per epoch, as PyTorch's StepLR and CosineAnnealingLR usually do).</summary>
public abstract record LearningRateSchedule
{
    /// <summary>The learning rate for an epoch (0-based), given the base rate.</summary>
    /// <param name="baseRate">The optimizer's initial learning rate.</param>
    /// <param name="epoch">The epoch, from 0.</param>
    /// <returns>The rate.</returns>
    public abstract double RateAt(double baseRate, int epoch);

    /// <summary>Checks the schedule's factors, so that a schedule that can only give NaN or a negative rate is refused before training.</summary>
    /// <exception cref="ArgumentException">A factor is out of range or not finite; the message names it.</exception>
    public virtual void Validate()
    {
    }
}

/// <summary>A constant learning rate.</summary>
public sealed record ConstantSchedule : LearningRateSchedule
{
    /// <inheritdoc />
    public override double RateAt(double baseRate, int epoch) => baseRate;
}

/// <summary>PyTorch's StepLR: lr = base · γ^⌊epoch / step⌋.</summary>
/// <param name="StepSize">Epochs between decays, at least 1.</param>
/// <param name="Gamma">The decay factor. Default: 0.1.</param>
public sealed record StepSchedule(int StepSize, double Gamma = 0.1) : LearningRateSchedule
{
    /// <inheritdoc />
    public override void Validate()
    {
        if (StepSize < 1)
        {
            throw new ArgumentException($"The step schedule's step size must be at least 1 epoch, got {StepSize}.", nameof(StepSize));
        }

        if (!double.IsFinite(Gamma) || Gamma < 0)
        {
            throw new ArgumentException($"The step schedule's factor γ must be a finite number ≥ 0, got {Gamma}.", nameof(Gamma));
        }
    }

    /// <inheritdoc />
    public override double RateAt(double baseRate, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(StepSize, 1, nameof(StepSize));
        return baseRate * Math.Pow(Gamma, epoch / StepSize);
    }
}

/// <summary>PyTorch's CosineAnnealingLR (closed form): lr = η_min + (base − η_min)·(1 + cos(π·epoch / T_max)) / 2.</summary>
/// <param name="TMax">The half-period in epochs, at least 1.</param>
/// <param name="MinimumRate">η_min. Default: 0.</param>
public sealed record CosineSchedule(int TMax, double MinimumRate = 0) : LearningRateSchedule
{
    /// <inheritdoc />
    public override void Validate()
    {
        if (TMax < 1)
        {
            throw new ArgumentException($"The cosine schedule's T_max must be at least 1 epoch, got {TMax}.", nameof(TMax));
        }

        if (!double.IsFinite(MinimumRate) || MinimumRate < 0)
        {
            throw new ArgumentException($"The cosine schedule's minimum rate must be a finite number ≥ 0, got {MinimumRate}.", nameof(MinimumRate));
        }
    }

    /// <inheritdoc />
    public override double RateAt(double baseRate, int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(TMax, 1, nameof(TMax));
        return MinimumRate + ((baseRate - MinimumRate) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2);
    }
}
