using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tuwen.Corpus.Pipeline;

/// <summary>
/// OUT/plan.json: how the input was cut into work units, and under which inputs and settings. Every worker
/// computes it the same way and checks it against the file; a restart or another worker with other inputs or
/// other content settings is refused instead of mixing incompatible units into one corpus.
/// </summary>
public sealed record CorpusPlan(string InputsFingerprint, string OptionsFingerprint, long Candidates, int UnitSize, CorpusBuildOptions Options)
{
    public const string FileName = "plan.json";

    public long Units => (Candidates + UnitSize - 1) / UnitSize;

    public long CandidatesIn(long unit) => Math.Min(UnitSize, Candidates - unit * UnitSize);

    public static CorpusPlan Read(string output)
    {
        var path = Path.Combine(output, FileName);
        if (!File.Exists(path)) throw new TuwenException($"{output} holds no corpus build ({FileName} missing); run `tuwen corpus build` first");
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var options = root["options"].Deserialize<CorpusBuildOptions>(CorpusBuildOptions.Json)!;
            return new CorpusPlan((string)root["inputs_fingerprint"]!, (string)root["options_fingerprint"]!, (long)root["candidates"]!, (int)root["unit_size"]!,
                options with { Output = output });
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new TuwenException($"{path} is damaged: {e.Message}", e);
        }
    }

    /// <summary>Writes the plan, or checks that the one already there is the same.</summary>
    public void Ensure(string output)
    {
        Directory.CreateDirectory(output);
        var path = Path.Combine(output, FileName);
        if (File.Exists(path))
        {
            var existing = Read(output);
            if (existing.InputsFingerprint != InputsFingerprint || existing.Candidates != Candidates)
                throw new TuwenException($"{output} holds a build of other inputs ({existing.Candidates} candidates); use another --out, or delete it to start over");
            if (existing.OptionsFingerprint != OptionsFingerprint || existing.UnitSize != UnitSize)
                throw new TuwenException($"{output} holds a build made with other settings; use another --out, or delete it to start over");
            return;
        }
        var json = new JsonObject
        {
            ["inputs_fingerprint"] = InputsFingerprint,
            ["options_fingerprint"] = OptionsFingerprint,
            ["candidates"] = Candidates,
            ["unit_size"] = UnitSize,
            ["units"] = Units,
            ["options"] = JsonSerializer.SerializeToNode(Options with { Output = "", ShardIndex = 0, ShardCount = 1 }, CorpusBuildOptions.Json),
        };
        // Workers may start together: each writes its own temporary file, and all renames carry the same content.
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        File.WriteAllText(temporary, json.ToJsonString(CorpusBuildOptions.Json) + "\n");
        File.Move(temporary, path, overwrite: true);
    }
}
