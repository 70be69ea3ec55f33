using System.Reflection;
using System.Reflection.Emit;
using System.Text;
using Microsoft.Azure.WebJobs;
using Microsoft.Azure.WebJobs.Extensions.DurableTask;
using Microsoft.Azure.WebJobs.Host.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Newtonsoft.Json.Linq;

namespace GalleryShare.DurableEngine;

public static class Program
{
    public static async Task<int> Main()
    {
        string functionsJson = Environment.GetEnvironmentVariable("DURABLE_ENGINE_FUNCTIONS") ?? "[]";
        var functions = JArray.Parse(functionsJson).Select(f => ((string)f["name"]!, (string)f["kind"]!)).ToList();
        Bridge.BaseUrl = Environment.GetEnvironmentVariable("DURABLE_ENGINE_BRIDGE_URL") ?? throw new InvalidOperationException("DURABLE_ENGINE_BRIDGE_URL is not set");
        string webhookBase = Environment.GetEnvironmentVariable("DURABLE_ENGINE_WEBHOOK_BASE") ?? "http://127.0.0.1:7071/runtime/webhooks/durabletask";
        Type emitted = FunctionEmitter.Emit(functions);

        var settings = new Dictionary<string, string?>();
        string? durableJson = Environment.GetEnvironmentVariable("DURABLE_ENGINE_OPTIONS");
        if (!string.IsNullOrEmpty(durableJson)) Flatten(JToken.Parse(durableJson), "AzureWebJobs:extensions:durableTask", settings);

        IHost host = new HostBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings))
            .ConfigureLogging(l => l.ClearProviders().AddSimpleConsole(o => { o.SingleLine = true; }).AddFilter((_, level) => level >= MinimumLogLevel()))
            .ConfigureWebJobs(b => b.AddDurableTask())
            .ConfigureServices(s =>
            {
                s.AddSingleton<ITypeLocator>(new FixedTypeLocator(emitted, typeof(ClientFunction)));
#pragma warning disable CS0618 // IWebHookProvider is public but marked obsolete; the extension needs one to build webhook URLs.
                s.AddSingleton<IWebHookProvider>(new LocalWebHookProvider(webhookBase));
#pragma warning restore CS0618
            })
            .Build();
        await host.StartAsync().ConfigureAwait(false);
        var jobHost = (JobHost)host.Services.GetRequiredService<IJobHost>();
        await jobHost.CallAsync(nameof(ClientFunction.DurableClientBinding)).ConfigureAwait(false);
        Console.Out.WriteLine("DURABLE_ENGINE_READY " + ClientFunction.BindingJson);
        Console.Out.Flush();

        // Runs until stdin closes (the Node process that started it ended) or SIGTERM.
        var stop = new TaskCompletionSource();
        _ = Task.Run(() => { while (Console.In.ReadLine() != null) { } stop.TrySetResult(); });
        AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
        await stop.Task.ConfigureAwait(false);
        await host.StopAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Warnings and errors unless DURABLE_ENGINE_LOG_LEVEL names another level (Information, Debug, ...).</summary>
    private static LogLevel MinimumLogLevel() =>
        Enum.TryParse(Environment.GetEnvironmentVariable("DURABLE_ENGINE_LOG_LEVEL"), true, out LogLevel level) ? level : LogLevel.Warning;

    private static void Flatten(JToken token, string prefix, Dictionary<string, string?> into)
    {
        switch (token)
        {
            case JObject o:
                foreach (var p in o.Properties()) Flatten(p.Value, $"{prefix}:{p.Name}", into);
                break;
            case JArray a:
                for (int i = 0; i < a.Count; i++) Flatten(a[i], $"{prefix}:{i}", into);
                break;
            default:
                into[prefix] = token.Type == JTokenType.Null ? null : token.ToString();
                break;
        }
    }
}

/// <summary>Captures the durable client binding's JSON (taskHubName, rpcBaseUrl, management URLs).</summary>
public static class ClientFunction
{
    public static string BindingJson = "";

    // DF0203 wants a typed client; out-of-process languages bind the client as its JSON string, as here.
#pragma warning disable DF0203
    [NoAutomaticTrigger]
    [FunctionName(nameof(DurableClientBinding))]
    public static void DurableClientBinding([DurableClient] string client) => BindingJson = client;
#pragma warning restore DF0203
}

internal sealed class FixedTypeLocator(params Type[] types) : ITypeLocator
{
    public IReadOnlyList<Type> GetTypes() => types;
}

#pragma warning disable CS0618
internal sealed class LocalWebHookProvider(string baseUrl) : IWebHookProvider
{
    public Uri GetUrl(IExtensionConfigProvider extension) => new(baseUrl);
}
#pragma warning restore CS0618

/// <summary>
/// Emits one static method per app function with [FunctionName] and its trigger attribute, as the
/// Functions host does for out-of-process languages: the WebJobs indexer only sees methods.
/// </summary>
public static class FunctionEmitter
{
    public static Type Emit(IEnumerable<(string Name, string Kind)> functions)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("GalleryShareFunctions"), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("GalleryShareFunctions");
        var type = module.DefineType("GalleryShareFunctions", TypeAttributes.Public | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class);
        var functionName = typeof(FunctionNameAttribute).GetConstructor([typeof(string)])!;
        foreach (var (name, kind) in functions)
        {
            (Type param, Type trigger, Type returns, string target) = kind switch
            {
                "orchestration" => (typeof(string), typeof(OrchestrationTriggerAttribute), typeof(Task<string>), nameof(Bridge.Orchestrate)),
                "activity" => (typeof(IDurableActivityContext), typeof(ActivityTriggerAttribute), typeof(Task<JToken>), nameof(Bridge.Activity)),
                "entity" => (typeof(string), typeof(EntityTriggerAttribute), typeof(Task<string>), nameof(Bridge.Entity)),
                _ => throw new InvalidOperationException($"Unknown function kind '{kind}' for '{name}'"),
            };
            var method = type.DefineMethod(MethodName(name), MethodAttributes.Public | MethodAttributes.Static, returns, [param]);
            method.SetCustomAttribute(new CustomAttributeBuilder(functionName, [name]));
            var parameter = method.DefineParameter(1, ParameterAttributes.None, "context");
            parameter.SetCustomAttribute(new CustomAttributeBuilder(trigger.GetConstructor(Type.EmptyTypes)!, []));
            var il = method.GetILGenerator();
            il.Emit(OpCodes.Ldstr, name);
            il.Emit(OpCodes.Ldarg_0);
            il.Emit(OpCodes.Call, typeof(Bridge).GetMethod(target)!);
            il.Emit(OpCodes.Ret);
        }
        return type.CreateType();
    }

    private static string MethodName(string name)
    {
        var sb = new StringBuilder("Fn_");
        foreach (char c in name) sb.Append(char.IsLetterOrDigit(c) ? c : '_');
        return sb.ToString();
    }
}

/// <summary>Forwards each invocation to the Node process over loopback HTTP.</summary>
public static class Bridge
{
    public static string BaseUrl = "";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromMinutes(10) };

    public static async Task<string> Orchestrate(string name, string context)
    {
        var (ok, body) = await Post($"orchestrations/{Uri.EscapeDataString(name)}", context).ConfigureAwait(false);
        if (ok) return body;
        throw OutOfProcFailure(body);
    }

    public static async Task<JToken> Activity(string name, IDurableActivityContext context)
    {
        JToken input = context.GetInput<JToken>() ?? JValue.CreateNull();
        var payload = new JObject { ["instanceId"] = context.InstanceId, ["input"] = input };
        var (ok, body) = await Post($"activities/{Uri.EscapeDataString(name)}", payload.ToString(Newtonsoft.Json.Formatting.None)).ConfigureAwait(false);
        if (ok) return JToken.Parse(body);
        throw OutOfProcFailure(body);
    }

    public static async Task<string> Entity(string name, string context)
    {
        var (ok, body) = await Post($"entities/{Uri.EscapeDataString(name)}", context).ConfigureAwait(false);
        if (ok) return body;
        throw OutOfProcFailure(body);
    }

    private static async Task<(bool Ok, string Body)> Post(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync($"{BaseUrl.TrimEnd('/')}/{path}", content).ConfigureAwait(false);
        string text = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        return (response.IsSuccessStatusCode, text);
    }

    /// <summary>
    /// The Functions host reports a worker's failure as an RpcException whose message reads
    /// "Result: Failure\nException: ...\nStack: ..."; the extension looks for exactly these markers
    /// to find the orchestrator state a failing JS orchestrator appends after "$OutOfProcData$:".
    /// </summary>
    private static Exception OutOfProcFailure(string body)
    {
        string message = body, stack = "";
        try
        {
            var error = JObject.Parse(body);
            message = (string?)error["message"] ?? body;
            stack = (string?)error["stack"] ?? "";
        }
        catch (Newtonsoft.Json.JsonException) { }
        return new Exception($"Result: Failure\nException: {message}\nStack: {stack}");
    }
}
