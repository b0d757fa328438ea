using System.Reflection;
using LambdaStats.Modules;
using NetArchTest.Rules;

namespace LambdaStats.Tests.Architecture;

/// <summary>
/// The modules share one assembly, so <c>internal</c> cannot keep them apart: these tests do. A
/// module may use another module's public namespaces (<c>Contracts</c>, and <c>Events.Import</c>,
/// the log reader that the host's import command uses) and its registration entry point, plus
/// the shared kernels (Common, Aggregation), and nothing else.
/// </summary>
[TestFixture]
public sealed class ModuleBoundaryTests
{
    private static readonly Assembly Modules = typeof(LambdaStatsModules).Assembly;
    private static readonly string[] ModuleNames = ["Events", "Speed", "Batch", "View"];

    [TestCaseSource(nameof(ModulePairs))]
    public void Module_UsesOtherModule_OnlyThroughContracts(string module, string other)
    {
        var forbidden = InternalTypesOf(other).Select(type => type.FullName!).ToArray();
        Assume.That(forbidden, Is.Not.Empty, $"{other} has internal types to protect");

        var result = Types.InAssembly(Modules)
            .That().ResideInNamespace($"LambdaStats.Modules.{module}")
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.That(result.FailingTypeNames ?? [], Is.Empty, $"{module} reaches into the internals of {other}");
    }

    [Test]
    public void SharedKernels_DependOnEventContractsOnly()
    {
        var forbidden = ModuleNames.SelectMany(InternalTypesOf).Select(type => type.FullName!)
            .Concat(["LambdaStats.Modules.Speed", "LambdaStats.Modules.Batch", "LambdaStats.Modules.View", "LambdaStats.Modules.Storage"])
            .ToArray();
        var result = Types.InAssembly(Modules)
            .That().ResideInNamespace("LambdaStats.Modules.Common")
            .Or().ResideInNamespace("LambdaStats.Modules.Aggregation")
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.That(result.FailingTypeNames ?? [], Is.Empty);
    }

    [Test]
    public void Contracts_DependOnNoModuleInternals()
    {
        foreach (var module in ModuleNames)
        {
            var forbidden = ModuleNames.SelectMany(InternalTypesOf).Select(type => type.FullName!).ToArray();
            var result = Types.InAssembly(Modules)
                .That().ResideInNamespace($"LambdaStats.Modules.{module}.Contracts")
                .ShouldNot().HaveDependencyOnAny(forbidden)
                .GetResult();

            Assert.That(result.FailingTypeNames ?? [], Is.Empty, $"{module}.Contracts");
        }
    }

    [Test]
    public void ModuleImplementation_IsNotPublic()
    {
        var publicInternals = ModuleNames
            .SelectMany(InternalTypesOf)
            .Where(type => type.IsVisible && !IsEntryPoint(type))
            .Select(type => type.FullName)
            .ToList();

        Assert.That(publicInternals, Is.Empty, "implementation types that other modules could use");
    }

    private static IEnumerable<TestCaseData> ModulePairs() =>
        from module in ModuleNames
        from other in ModuleNames
        where module != other
        select new TestCaseData(module, other).SetName($"Module_{module}_UsesOnlyContractsOf_{other}");

    /// <summary>Types of a module outside its Contracts namespace, except its public entry points.</summary>
    private static IEnumerable<Type> InternalTypesOf(string module) =>
        Modules.GetTypes().Where(type =>
            type.Namespace is { } ns
            && (ns == $"LambdaStats.Modules.{module}" || ns.StartsWith($"LambdaStats.Modules.{module}.", StringComparison.Ordinal))
            && !ns.StartsWith($"LambdaStats.Modules.{module}.Contracts", StringComparison.Ordinal)
            && !ns.StartsWith("LambdaStats.Modules.Events.Import", StringComparison.Ordinal)
            && !IsEntryPoint(type)
            && !type.Name.StartsWith('<'));

    /// <summary>Registration entry points and types that a host or framework must see.</summary>
    private static bool IsEntryPoint(Type type) =>
        type.Name.EndsWith("Module", StringComparison.Ordinal)
        || type.Name.EndsWith("Options", StringComparison.Ordinal)
        || type.Name.EndsWith("Exception", StringComparison.Ordinal)
        || type.Name == "BatchJobs";
}
