using System.Globalization;
using Spectre.Console;
using Xent.Training;

namespace Xent.Cli.Training;

/// <summary>
/// Shows training progress: a Spectre.Console progress bar with loss and accuracy on a terminal, and plain lines
/// (one per epoch) when output is redirected.
/// </summary>
internal static class TrainingProgressView
{
    public static T Run<T>(CliContext context, string label, int totalSteps, Func<IProgress<TrainingProgress>, T> work)
    {
        if (context.Console.Profile.Capabilities.Interactive)
        {
            T result = default!;
            context.Console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    ProgressTask task = ctx.AddTask(Markup.Escape(label), maxValue: totalSteps);
                    result = work(new Callback(p =>
                    {
                        if (p.Resumed)
                        {
                            task.Increment(((double)p.Epoch * p.StepsPerEpoch) + p.Step);
                            task.Description = Markup.Escape($"{label} {ResumedLine(p.Epoch, p.Step)}");
                            return;
                        }

                        if (p.EpochEnded)
                        {
                            task.Description = Markup.Escape($"{label} {EpochLine(p)}");
                            return;
                        }

                        task.Increment(1);
                        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{label} epoch {p.Epoch + 1}/{p.Epochs} loss {p.Loss:G5} acc {p.Accuracy:F3}"));
                    }));
                });
            return result;
        }

        return work(new Callback(p =>
        {
            if (p.Resumed)
            {
                context.Out.WriteLine(ResumedLine(p.Epoch, p.Step));
            }
            else if (p.EpochEnded)
            {
                context.Out.WriteLine($"{label} {EpochLine(p)}");
            }
        }));
    }

    /// <summary>Where a resumed run goes on: the epoch (from 0) and the steps of it already done.</summary>
    internal static string ResumedLine(int epoch, int step) => step == 0
        ? $"Resumed from the checkpoint at the start of epoch {epoch + 1}."
        : $"Resumed from the checkpoint after step {step} of epoch {epoch + 1}.";

    /// <summary>One epoch's figures: the mean training loss and accuracy over its rows, and the validation loss and accuracy.</summary>
    internal static string EpochLine(TrainingProgress p)
    {
        string line = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch + 1}/{p.Epochs}: loss {p.EpochLoss:G4} acc {p.EpochAccuracy:F3}");
        if (!double.IsNaN(p.ValidationLoss))
        {
            line += string.Create(CultureInfo.InvariantCulture, $", val loss {p.ValidationLoss:G4} acc {p.ValidationAccuracy:F3}");
        }

        return line + string.Create(CultureInfo.InvariantCulture, $", lr {p.LearningRate:G3}");
    }

    /// <summary>Passes each report to <paramref name="inner"/> after <paramref name="also"/> has seen it.</summary>
    internal static IProgress<TrainingProgress> Tap(IProgress<TrainingProgress> inner, Action<TrainingProgress> also) => new Callback(p =>
    {
        also(p);
        inner.Report(p);
    });

    /// <summary>Where the last report left training, for a message: "after step 3 of epoch 2", "at the end of epoch 1".</summary>
    internal static string Position(TrainingProgress p) => p switch
    {
        { EpochEnded: true } => $"at the end of epoch {p.Epoch + 1} of {p.Epochs}",
        { Step: 0 } => $"at the start of epoch {p.Epoch + 1} of {p.Epochs}",
        _ => $"after step {p.Step} of epoch {p.Epoch + 1} of {p.Epochs}",
    };

    private sealed class Callback(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
