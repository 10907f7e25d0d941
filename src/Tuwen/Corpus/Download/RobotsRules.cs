namespace Tuwen.Corpus.Download;

/// <summary>
/// The rules of one robots.txt for one crawler (RFC 9309): the group naming our product token, else the
/// "*" group; the longest matching Allow/Disallow path wins, Allow on a tie; '*' matches any run and a
/// trailing '$' anchors the end. The group's Crawl-delay (not in the RFC, but widely used) is kept too.
/// </summary>
public sealed class RobotsRules
{
    private readonly List<(string Pattern, bool Allow)> _rules;

    private RobotsRules(List<(string, bool)> rules, TimeSpan? crawlDelay = null)
    {
        _rules = rules;
        CrawlDelay = crawlDelay;
    }

    public TimeSpan? CrawlDelay { get; }

    public static RobotsRules AllowAll { get; } = new([]);
    public static RobotsRules DisallowAll { get; } = new([("/", false)]);

    public static RobotsRules Parse(string text, string userAgent)
    {
        var token = userAgent.Split('/', ' ')[0].ToLowerInvariant();
        var ours = new List<(string, bool)>();
        var star = new List<(string, bool)>();
        var foundOurs = false;
        TimeSpan? ourDelay = null, starDelay = null;
        List<string> groupAgents = [];
        var inRules = false;
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine;
            var hash = line.IndexOf('#');
            if (hash >= 0) line = line[..hash];
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var field = line[..colon].Trim().ToLowerInvariant();
            var value = line[(colon + 1)..].Trim();
            if (field == "user-agent")
            {
                // A user-agent line after rules starts a new group.
                if (inRules) { groupAgents = []; inRules = false; }
                groupAgents.Add(value.ToLowerInvariant());
                continue;
            }
            if (field == "crawl-delay" && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                && seconds >= 0 && seconds < 86400)
            {
                inRules = true;
                var delay = TimeSpan.FromSeconds(seconds);
                if (groupAgents.Any(a => a != "*" && token.Length > 0 && a.Contains(token))) { ourDelay = delay; foundOurs = true; }
                else if (groupAgents.Contains("*")) starDelay = delay;
                continue;
            }
            if (field is not ("allow" or "disallow")) continue;
            inRules = true;
            // "Disallow:" with no path allows everything; it adds no rule.
            if (value.Length == 0) continue;
            var rule = (value, field == "allow");
            if (groupAgents.Any(a => a != "*" && token.Length > 0 && a.Contains(token))) { ours.Add(rule); foundOurs = true; }
            else if (groupAgents.Contains("*")) star.Add(rule);
        }
        return foundOurs ? new RobotsRules(ours, ourDelay) : new RobotsRules(star, starDelay);
    }

    public bool IsAllowed(string pathAndQuery)
    {
        var path = string.IsNullOrEmpty(pathAndQuery) ? "/" : pathAndQuery;
        var best = -1;
        var allowed = true;
        foreach (var (pattern, allow) in _rules)
        {
            if (!Matches(pattern, path)) continue;
            if (pattern.Length > best || (pattern.Length == best && allow))
            {
                best = pattern.Length;
                allowed = allow;
            }
        }
        return allowed;
    }

    private static bool Matches(string pattern, string path)
    {
        var anchored = pattern.EndsWith('$');
        if (anchored) pattern = pattern[..^1];
        return Match(pattern, 0, path, 0, anchored);
    }

    private static bool Match(string pattern, int p, string path, int s, bool anchored)
    {
        while (p < pattern.Length)
        {
            if (pattern[p] == '*')
            {
                for (var skip = s; skip <= path.Length; skip++)
                    if (Match(pattern, p + 1, path, skip, anchored)) return true;
                return false;
            }
            if (s >= path.Length || pattern[p] != path[s]) return false;
            p++;
            s++;
        }
        return !anchored || s == path.Length;
    }
}
