using System.Text;
using LambdaStats.Modules.Events.Contracts;
using Microsoft.Data.Sqlite;

namespace LambdaStats.Modules.Storage.Sqlite;

/// <summary>
/// The parameters of one row of an INSERT into <c>events</c>, named after the columns with a
/// suffix, so that one statement can insert several rows.
/// </summary>
internal sealed class SqliteEventRowParameters
{
    /// <summary>The columns every insert writes, in the order of <see cref="ValuesSql"/>.</summary>
    public const string Columns = "id, type, occurred_ticks, hour, hub_id, media_id, visitor_id, session_id, page, duration_seconds, network, contact_kind, properties";

    private readonly SqliteParameter id;
    private readonly SqliteParameter type;
    private readonly SqliteParameter occurredTicks;
    private readonly SqliteParameter hour;
    private readonly SqliteParameter hubId;
    private readonly SqliteParameter mediaId;
    private readonly SqliteParameter visitorId;
    private readonly SqliteParameter sessionId;
    private readonly SqliteParameter page;
    private readonly SqliteParameter durationSeconds;
    private readonly SqliteParameter network;
    private readonly SqliteParameter contactKind;
    private readonly SqliteParameter properties;

    public SqliteEventRowParameters(SqliteCommand command, string suffix)
    {
        id = command.Parameters.Add("$id" + suffix, SqliteType.Text);
        type = command.Parameters.Add("$type" + suffix, SqliteType.Integer);
        occurredTicks = command.Parameters.Add("$occurred_ticks" + suffix, SqliteType.Integer);
        hour = command.Parameters.Add("$hour" + suffix, SqliteType.Integer);
        hubId = command.Parameters.Add("$hub_id" + suffix, SqliteType.Text);
        mediaId = command.Parameters.Add("$media_id" + suffix, SqliteType.Text);
        visitorId = command.Parameters.Add("$visitor_id" + suffix, SqliteType.Text);
        sessionId = command.Parameters.Add("$session_id" + suffix, SqliteType.Text);
        page = command.Parameters.Add("$page" + suffix, SqliteType.Integer);
        durationSeconds = command.Parameters.Add("$duration_seconds" + suffix, SqliteType.Real);
        network = command.Parameters.Add("$network" + suffix, SqliteType.Text);
        contactKind = command.Parameters.Add("$contact_kind" + suffix, SqliteType.Text);
        properties = command.Parameters.Add("$properties" + suffix, SqliteType.Text);
    }

    /// <summary>Returns the parameter list of one row, <c>$id{suffix}, $type{suffix}, …</c>, in the order of <see cref="Columns"/>.</summary>
    public static string ValuesSql(string suffix)
    {
        var values = new StringBuilder();
        foreach (var column in Columns.Split(", "))
        {
            values.Append(values.Length == 0 ? "$" : ", $").Append(column).Append(suffix);
        }

        return values.ToString();
    }

    public void Set(LambdaEvent e)
    {
        var ticks = e.OccurredAt.UtcTicks;
        id.Value = e.Id;
        type.Value = (int)e.Type;
        occurredTicks.Value = ticks;
        hour.Value = ticks / TimeSpan.TicksPerHour;
        hubId.Value = e.HubId;
        mediaId.Value = (object?)e.MediaId ?? DBNull.Value;
        visitorId.Value = (object?)e.VisitorId ?? DBNull.Value;
        sessionId.Value = (object?)e.SessionId ?? DBNull.Value;
        page.Value = (object?)e.Page ?? DBNull.Value;
        durationSeconds.Value = (object?)e.DurationSeconds ?? DBNull.Value;
        network.Value = (object?)e.Network ?? DBNull.Value;
        contactKind.Value = (object?)e.ContactKind ?? DBNull.Value;
        properties.Value = e.Properties is { } json ? json.GetRawText() : DBNull.Value;
    }
}
