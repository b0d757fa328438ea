# Multi-stage build: the SDK image compiles and publishes, the ASP.NET runtime image runs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY Directory.Build.props LambdaStats.sln appsettings.json ./
COPY LambdaStats.Modules/LambdaStats.Modules.csproj LambdaStats.Modules/
COPY LambdaStats.Web/LambdaStats.Web.csproj LambdaStats.Web/
RUN dotnet restore LambdaStats.Web/LambdaStats.Web.csproj
COPY LambdaStats.Modules/ LambdaStats.Modules/
COPY LambdaStats.Web/ LambdaStats.Web/
RUN dotnet publish LambdaStats.Web/LambdaStats.Web.csproj -c Release -o /app --no-restore

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://+:8080 \
    Storage__DataDirectory=/data
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["dotnet", "LambdaStats.Web.dll"]
