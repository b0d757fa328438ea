using LambdaStats.Modules.Common;
using Mediator;

namespace LambdaStats.Modules.Batch.Contracts;

/// <summary>Runs the hourly catch-up: every closed hour from the watermark, and every hour with late events.</summary>
public sealed record RunHourlyBatch : ICommand<BatchRunSummary>;

/// <summary>Builds the daily views of every whole UTC day before the watermark.</summary>
public sealed record RunDailyBatch : ICommand<BatchRunSummary>;

/// <summary>What one run did, per aggregation.</summary>
public sealed record BatchRunSummary(IReadOnlyList<AggregationRunSummary> Aggregations);

/// <param name="Watermark">Hourly watermark after the run, UTC; null before the first run.</param>
/// <param name="BucketsWritten">Hours (or days) whose views the run wrote.</param>
public sealed record AggregationRunSummary(string Aggregation, UtcHour? Watermark, int BucketsWritten, string? Error);

/// <summary>Recomputes the hours in [<see cref="From"/>, <see cref="To"/>) that the views cover, plus the usual catch-up.</summary>
/// <param name="Aggregation">The only aggregation to recompute, or null for all.</param>
public sealed record RecomputeHours(string? Aggregation, UtcHour From, UtcHour To) : ICommand<BatchRunSummary>;

/// <summary>Advances the watermark of a new aggregation up to <see cref="Cap"/>: one step of its backfill.</summary>
public sealed record BackfillStep(string Aggregation, UtcHour Cap) : ICommand<BatchRunSummary>;
