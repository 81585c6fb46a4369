using System.CommandLine;
using System.Globalization;
using Aggregator.Domain.Tenants;
using Aggregator.Infrastructure.Tenants;

namespace Aggregator.Api.Tenants;

/// <summary><c>tenants create|list|update|suspend|resume|webhook-secret|demo</c> and <c>keys create|list|revoke</c>.</summary>
public static class TenantCommands
{
    public delegate Task<int> ServiceRunner(Func<IServiceProvider, Task<int>> command, bool migrateFirst = true);

    public static Command Create(ServiceRunner run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var tenants = new Command("tenants", "Partner organisations and their settings.");

        var name = new Argument<string>("name") { Description = "The tenant's display name." };
        var returnUrls = ReturnUrlOption();
        var syncInterval = SyncIntervalOption();
        var webhook = UrlOption("--webhook-url", "Where sync events are posted.");
        var live = new Option<bool>("--live") { Description = "Issue an agg_live_ key instead of agg_test_." };
        var create = new Command("create", "Create a tenant and print its first API key (shown once, on the last line).")
        {
            name, returnUrls, syncInterval, webhook, live,
        };
        create.SetAction((parse, cancellationToken) => run(async services =>
        {
            var admin = services.GetRequiredService<TenantAdministration>();
            var settings = new TenantSettings(parse.GetValue(returnUrls) ?? [], parse.GetValue(syncInterval), parse.GetValue(webhook));
            var (tenant, key) = await admin.CreateTenantAsync(
                parse.GetRequiredValue(name), settings, parse.GetValue(live) ? ApiKeyEnvironment.Live : ApiKeyEnvironment.Test, cancellationToken);
            await PrintTenantAsync(tenant);
            if (parse.GetValue(webhook) is not null)
            {
                await PrintWebhookSecretAsync(admin, tenant.Id, rotate: false, cancellationToken);
            }

            await Console.Out.WriteLineAsync($"API key {key.Prefix}… (shown once; store it now):");
            await Console.Out.WriteLineAsync(key.Key);
            return 0;
        }));
        tenants.Add(create);

        var list = new Command("list", "List tenants.");
        list.SetAction((_, cancellationToken) => run(async services =>
        {
            foreach (var tenant in await services.GetRequiredService<TenantAdministration>().ListTenantsAsync(cancellationToken))
            {
                await PrintTenantAsync(tenant);
            }

            return 0;
        }));
        tenants.Add(list);

        var tenantId = new Argument<Guid>("tenant-id");
        var updateReturnUrls = ReturnUrlOption();
        var updateInterval = SyncIntervalOption();
        var updateWebhook = UrlOption("--webhook-url", "Where sync events are posted.");
        var displayName = new Option<string?>("--display-name") { Description = "The name patients see on the hosted Connect page." };
        var logoUrl = UrlOption("--logo-url", "The logo the hosted Connect page shows (https).");
        var update = new Command("update", "Replace a tenant's return urls, sync interval, webhook url, display name or logo.")
        {
            tenantId, updateReturnUrls, updateInterval, updateWebhook, displayName, logoUrl,
        };
        update.SetAction((parse, cancellationToken) => run(async services =>
        {
            var admin = services.GetRequiredService<TenantAdministration>();
            var id = parse.GetRequiredValue(tenantId);
            var existing = (await admin.ListTenantsAsync(cancellationToken)).SingleOrDefault(t => t.Id == id);
            if (existing is null)
            {
                await Console.Error.WriteLineAsync($"error: no tenant {id}");
                return 1;
            }

            var urls = parse.GetValue(updateReturnUrls) is { Length: > 0 } given ? given : existing.ReturnUrls.ToArray();
            var tenant = await admin.UpdateTenantAsync(id, new TenantSettings(
                urls, parse.GetValue(updateInterval), parse.GetValue(updateWebhook), parse.GetValue(displayName), parse.GetValue(logoUrl)), cancellationToken);
            await PrintTenantAsync(tenant);
            if (parse.GetValue(updateWebhook) is not null)
            {
                await PrintWebhookSecretAsync(admin, tenant.Id, rotate: false, cancellationToken);
            }

            return 0;
        }));
        tenants.Add(update);

        var secretTenantId = new Argument<Guid>("tenant-id");
        var rotate = new Option<bool>("--rotate") { Description = "Make a new secret; the old one stops verifying at once." };
        var secret = new Command("webhook-secret", "Print the secret the tenant verifies webhook signatures with (Standard Webhooks, whsec_…).")
        {
            secretTenantId, rotate,
        };
        secret.SetAction((parse, cancellationToken) => run(async services =>
        {
            var admin = services.GetRequiredService<TenantAdministration>();
            return await PrintWebhookSecretAsync(admin, parse.GetRequiredValue(secretTenantId), parse.GetValue(rotate), cancellationToken) ? 0 : 1;
        }));
        tenants.Add(secret);

        foreach (var (verb, status, description) in new[]
        {
            ("suspend", TenantStatus.Suspended, "Suspend a tenant: its API keys, patient session tokens and Connect links stop working at once on every replica, and its connections stop syncing."),
            ("resume", TenantStatus.Active, "Resume a suspended tenant."),
        })
        {
            var statusTenantId = new Argument<Guid>("tenant-id");
            var command = new Command(verb, description) { statusTenantId };
            command.SetAction((parse, cancellationToken) => run(async services =>
            {
                var id = parse.GetRequiredValue(statusTenantId);
                if (!await services.GetRequiredService<TenantAdministration>().SetStatusAsync(id, status, cancellationToken))
                {
                    await Console.Error.WriteLineAsync($"error: no tenant {id}");
                    return 1;
                }

                await Console.Out.WriteLineAsync(status == TenantStatus.Suspended ? $"Tenant {id} suspended." : $"Tenant {id} resumed.");
                return 0;
            }));
            tenants.Add(command);
        }

        var demoReturnUrls = ReturnUrlOption();
        var demo = new Command("demo", $"Ensure the '{TenantAdministration.DemoTenantName}' tenant; revoke its old key and print a new one (last line).")
        {
            demoReturnUrls,
        };
        demo.SetAction((parse, cancellationToken) => run(async services =>
        {
            var (tenant, key) = await services.GetRequiredService<TenantAdministration>()
                .EnsureDemoTenantAsync(new TenantSettings(parse.GetValue(demoReturnUrls) ?? [], null, null), cancellationToken);
            await PrintTenantAsync(tenant);
            await Console.Out.WriteLineAsync(key.Key);
            return 0;
        }));
        tenants.Add(demo);
        return tenants;
    }

    private static async Task<bool> PrintWebhookSecretAsync(TenantAdministration admin, Guid tenantId, bool rotate, CancellationToken cancellationToken)
    {
        if (await admin.WebhookSecretAsync(tenantId, rotate, cancellationToken) is not { } secret)
        {
            await Console.Error.WriteLineAsync("error: the tenant has no webhook url; set one with tenants update --webhook-url.");
            return false;
        }

        await Console.Out.WriteLineAsync($"Webhook signing secret (Standard Webhooks): {secret}");
        return true;
    }

    public static Command CreateKeyCommands(ServiceRunner run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var keys = new Command("keys", "A tenant's API keys.");

        var tenantId = new Argument<Guid>("tenant-id");
        var name = new Option<string>("--name") { Description = "What the key is for.", DefaultValueFactory = _ => "default" };
        var live = new Option<bool>("--live") { Description = "Issue an agg_live_ key instead of agg_test_." };
        var create = new Command("create", "Issue another API key for a tenant (shown once, on the last line).") { tenantId, name, live };
        create.SetAction((parse, cancellationToken) => run(async services =>
        {
            var key = await services.GetRequiredService<TenantAdministration>().CreateKeyAsync(
                parse.GetRequiredValue(tenantId), parse.GetRequiredValue(name), parse.GetValue(live) ? ApiKeyEnvironment.Live : ApiKeyEnvironment.Test, cancellationToken);
            await Console.Out.WriteLineAsync($"API key {key.Prefix}… for tenant {key.TenantId} (shown once; store it now):");
            await Console.Out.WriteLineAsync(key.Key);
            return 0;
        }));
        keys.Add(create);

        var listTenant = new Argument<Guid>("tenant-id");
        var list = new Command("list", "List a tenant's keys (prefixes only; secrets are never stored).") { listTenant };
        list.SetAction((parse, cancellationToken) => run(async services =>
        {
            foreach (var key in await services.GetRequiredService<TenantAdministration>().ListKeysAsync(parse.GetRequiredValue(listTenant), cancellationToken))
            {
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{key.Prefix}…  {key.Name,-12} created {key.CreatedAt:u}  last used {(key.LastUsedAt is { } used ? used.ToString("u", CultureInfo.InvariantCulture) : "never"),-20}  {(key.IsRevoked ? "revoked" : "active")}"));
            }

            return 0;
        }));
        keys.Add(list);

        var prefix = new Argument<string>("prefix") { Description = "The key's prefix, as `keys list` shows it." };
        var revoke = new Command("revoke", "Revoke a key; it stops working at once on every replica.") { prefix };
        revoke.SetAction((parse, cancellationToken) => run(async services =>
        {
            var revoked = await services.GetRequiredService<TenantAdministration>().RevokeKeyAsync(parse.GetRequiredValue(prefix).TrimEnd('…'), cancellationToken);
            await Console.Out.WriteLineAsync(revoked ? "Revoked." : "No active key has that prefix.");
            return revoked ? 0 : 1;
        }));
        keys.Add(revoke);
        return keys;
    }

    /// <summary>An absolute url (System.CommandLine has no parser of its own for <see cref="Uri"/>).</summary>
    private static Option<Uri?> UrlOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var url))
            {
                return url;
            }

            result.AddError($"'{text}' is not an absolute url ({name}).");
            return null;
        },
    };

    private static Option<string[]> ReturnUrlOption() => new("--return-url")
    {
        Description = "A return url the connect flow may end on (exact match); repeat for several.",
        AllowMultipleArgumentsPerToken = false,
    };

    private static Option<TimeSpan?> SyncIntervalOption() => new("--sync-interval")
    {
        Description = "How often connections are synced, e.g. 12:00:00 or 1.00:00:00 (default 24 hours).",
    };

    private static Task PrintTenantAsync(Tenant tenant) => Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
        $"Tenant {tenant.Id}  {tenant.Name}{(tenant.DisplayName is { } shown && shown != tenant.Name ? $" (shown as {shown})" : "")}  sync every {tenant.SyncInterval}  return urls: {(tenant.ReturnUrls.Count == 0 ? "(none)" : string.Join(' ', tenant.ReturnUrls))}"));
}
