namespace Aggregator.Infrastructure.Notifications;

/// <summary>PostgreSQL NOTIFY channels that replicas listen on to keep their in-memory state true.</summary>
public static class NotificationChannels
{
    /// <summary>Payload: the revoked key's SHA-256 hash in hex.</summary>
    public const string ApiKeyRevoked = "aggregator_api_key_revoked";

    /// <summary>
    /// Payload: <c>{patientId}:{recordVersion}</c>, <c>{patientId}:deleted</c> once the patient is deleted, or
    /// <c>{patientId}:sources</c> when a connection's state that the record's summary shows changed (sent by a trigger
    /// on <c>connections</c>; <c>*</c> by one on <c>providers</c>).
    /// </summary>
    public const string RecordChanged = "aggregator_record_changed";

    /// <summary>Payload: <c>{patientId}:{eventSequence}</c>, after a patient's event was stored.</summary>
    public const string PatientEvent = "aggregator_patient_event";

    /// <summary>Payload: <c>tenant:{tenantId}</c> (suspended or resumed) or <c>patient:{patientId}</c> (sessions revoked, or deleted).</summary>
    public const string CredentialsChanged = "aggregator_credentials_changed";

    /// <summary>Sent to every handler after a reconnect, when notifications may have been missed.</summary>
    public const string Everything = "*";

    public static readonly string[] All = [ApiKeyRevoked, RecordChanged, PatientEvent, CredentialsChanged];
}
