import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { DeviceType, OsFamily } from '@converge/proto';
import { z } from '@converge/config';
import { deviceTypeOfChassis, type Facts } from './facts.ts';
import { upnsOf } from './logged-on-users.ts';

const execFileAsync = promisify(execFile);

/**
 * One PowerShell run gathers every CIM fact as JSON. The OS install id is the Windows licensing
 * OfflineInstallationId (changes with a reinstall, not with the hardware). Logged-on UPNs come from the
 * owners of explorer.exe (one per interactive session) looked up in the IdentityStore cache, where Windows
 * keeps the UPN of Entra ID and domain accounts; local accounts have none and are left out.
 */
const script = String.raw`
$ErrorActionPreference = 'SilentlyContinue'
$product = Get-CimInstance Win32_ComputerSystemProduct
$system = Get-CimInstance Win32_ComputerSystem
$os = Get-CimInstance Win32_OperatingSystem
$bios = Get-CimInstance Win32_BIOS
$enclosure = Get-CimInstance Win32_SystemEnclosure
$license = Get-CimInstance SoftwareLicensingProduct -Filter "ApplicationID='55c92734-d682-4d71-983e-d6ec3f16059f' AND PartialProductKey IS NOT NULL" | Select-Object -First 1
$upns = @(Get-CimInstance Win32_Process -Filter "Name='explorer.exe'" | ForEach-Object {
  $owner = Invoke-CimMethod -InputObject $_ -MethodName GetOwnerSid
  if ($owner.Sid) { (Get-ItemProperty "HKLM:\SOFTWARE\Microsoft\IdentityStore\Cache\$($owner.Sid)\IdentityCache\$($owner.Sid)").UserName }
} | Where-Object { $_ })
[pscustomobject]@{
  uuid = $product.UUID; serial = $bios.SerialNumber; manufacturer = $system.Manufacturer; model = $system.Model
  installId = $license.OfflineInstallationId; osName = $os.Caption; osVersion = $os.Version
  productType = [int]$os.ProductType; domainRole = [int]$system.DomainRole
  chassisTypes = @($enclosure.ChassisTypes | ForEach-Object { [int]$_ }); upns = $upns
} | ConvertTo-Json -Compress
`;

const cimFacts = z.object({
  uuid: z.string().nullish(),
  serial: z.string().nullish(),
  manufacturer: z.string().nullish(),
  model: z.string().nullish(),
  installId: z.string().nullish(),
  osName: z.string().nullish(),
  osVersion: z.string().nullish(),
  productType: z.number().nullish(),
  domainRole: z.number().nullish(),
  chassisTypes: z.array(z.number()).nullish(),
  upns: z.array(z.string()).nullish(),
});

/** Win32_ComputerSystem.DomainRole 4 and 5 are backup and primary domain controllers; ProductType 1 is a client. */
export function windowsDeviceType(
  domainRole: number,
  productType: number,
  chassisTypes: number[],
): DeviceType {
  if (domainRole === 4 || domainRole === 5) return DeviceType.DOMAIN_CONTROLLER;
  if (productType > 1) return DeviceType.SERVER;
  return deviceTypeOfChassis(chassisTypes[0]);
}

export async function collectWindowsFacts(): Promise<Facts> {
  const { stdout } = await execFileAsync(
    'powershell.exe',
    ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', script],
    { timeout: 60_000, windowsHide: true },
  );
  const cim = cimFacts.parse(JSON.parse(stdout));
  return {
    hardwareUuid: cim.uuid?.trim() ?? '',
    serialNumber: cim.serial?.trim() ?? '',
    manufacturer: cim.manufacturer?.trim() ?? '',
    model: cim.model?.trim() ?? '',
    osInstallId: cim.installId?.trim() ?? '',
    hostname: hostname(),
    osFamily: OsFamily.WINDOWS,
    osName: cim.osName?.trim() ?? 'Windows',
    osVersion: cim.osVersion?.trim() ?? '',
    deviceType: windowsDeviceType(cim.domainRole ?? 0, cim.productType ?? 1, cim.chassisTypes ?? []),
    loggedOnUpns: upnsOf(cim.upns ?? []),
  };
}
