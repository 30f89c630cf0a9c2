#!/usr/bin/env bash
# Packages this folder as a .vsix without vsce, for `code --install-extension`.
# Usage: editors/vscode/package-vsix.sh [OUT.vsix]   (default: editors/vscode/orgscope-VERSION.vsix)
# Needs `zip` or python3. The test/ folder and node_modules are left out.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$here/package.json")"
out="${1:-$here/orgscope-$version.vsix}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/extension/syntaxes"
cp "$here/package.json" "$here/language-configuration.json" "$stage/extension/"
cp "$here"/syntaxes/*.json "$stage/extension/syntaxes/"
cp "$here/../README.md" "$stage/extension/README.md"

cat > "$stage/extension.vsixmanifest" <<MANIFEST
<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011" xmlns:d="http://schemas.microsoft.com/developer/vsx-schema-design/2011">
  <Metadata>
    <Identity Language="en-US" Id="orgscope" Version="$version" Publisher="orgscope" />
    <DisplayName>orgscope policy language</DisplayName>
    <Description xml:space="preserve">Syntax highlighting for orgscope policy files (.policy).</Description>
    <Categories>Programming Languages</Categories>
    <Properties>
      <Property Id="Microsoft.VisualStudio.Code.Engine" Value="^1.60.0" />
    </Properties>
  </Metadata>
  <Installation>
    <InstallationTarget Id="Microsoft.VisualStudio.Code" />
  </Installation>
  <Dependencies />
  <Assets>
    <Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true" />
    <Asset Type="Microsoft.VisualStudio.Services.Content.Details" Path="extension/README.md" Addressable="true" />
  </Assets>
</PackageManifest>
MANIFEST

cat > "$stage/[Content_Types].xml" <<'TYPES'
<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
  <Default Extension=".json" ContentType="application/json" />
  <Default Extension=".md" ContentType="text/markdown" />
  <Default Extension=".vsixmanifest" ContentType="text/xml" />
</Types>
TYPES

rm -f "$out"
cd "$stage"
if command -v zip >/dev/null 2>&1; then
  zip -qrX "$out" '[Content_Types].xml' extension.vsixmanifest extension
else
  python3 -m zipfile -c "$out" '[Content_Types].xml' extension.vsixmanifest extension
fi
echo "wrote $out"
echo "install with: code --install-extension \"$out\""
