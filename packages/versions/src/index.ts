export {
  compareParsedVersions,
  compareVersions,
  isNewerVersion,
  parseVersion,
  type Version,
} from './software-version.ts';
