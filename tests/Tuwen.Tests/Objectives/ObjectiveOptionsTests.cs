using System.Text.Json.Nodes;
using Tuwen.Objectives;

namespace Tuwen.Tests.Objectives;

public class ObjectiveOptionsTests
{
    private static ObjectiveOptions Read(string json) =>
        new("demo", JsonNode.Parse(json)!.AsObject(), ["rate", "count", "on", "path"]);

    [Fact]
    public void ReadsValuesFromJsonTextAndFromCode()
    {
        var o = Read("""{"rate": 0.5, "count": "3", "on": false, "path": "/tmp/x"}""");
        Assert.Equal(0.5, o.Number("rate", 1));
        Assert.Equal(3, o.Int("count", 7));        // a number written as a string
        Assert.False(o.Flag("on", true));
        Assert.Equal("/tmp/x", o.Text("path"));
        var fromCode = new ObjectiveOptions("demo", new JsonObject { ["count"] = 12, ["rate"] = 2 }, ["count", "rate"]);
        Assert.Equal(12, fromCode.Int("count", 0));
        Assert.Equal(2.0, fromCode.Number("rate", 0));
        var empty = new ObjectiveOptions("demo", null, ["count"]);
        Assert.Equal(9, empty.Int("count", 9));
        Assert.Null(empty.Number("count"));
    }

    [Theory]
    [InlineData("""{"speed": 1}""", "demo: unknown option 'speed' (known: rate, count, on, path)")]
    [InlineData("""{"count": 2.5}""", "demo: count must be an integer, not 2.5")]
    [InlineData("""{"count": 3000000000}""", "demo: count must be an integer")]
    [InlineData("""{"rate": "fast"}""", "demo: rate must be a number, not \"fast\"")]
    [InlineData("""{"on": "yes"}""", "demo: on must be true or false")]
    [InlineData("""{"path": ""}""", "demo: path must be a non-empty string")]
    public void BadValuesNameTheObjectiveAndOption(string json, string message)
    {
        var e = Assert.Throws<TuwenException>(() =>
        {
            var o = Read(json);
            o.Number("rate", 0); o.Int("count", 0); o.Flag("on", false); o.Text("path");
        });
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AnObjectiveWithoutOptionsSaysSo()
    {
        var e = Assert.Throws<TuwenException>(() => new ObjectiveOptions("filip", new JsonObject { ["tokens"] = 1 }, []));
        Assert.Equal("filip: unknown option 'tokens' (known: none)", e.Message);
    }
}
