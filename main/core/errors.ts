// The studio's one error type and its codes (defined in native-models, which imports nothing of main).
export {
  StudioError,
  ERROR_CODES,
  errorCode,
  isErrorCode,
  zodIssueLine,
  fromZod,
  type ErrorCode,
  type ZodLikeError,
} from '../../native-models/errors.ts';
