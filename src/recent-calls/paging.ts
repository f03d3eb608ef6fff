/** The part of the SDK's Page objects the readers use (the SDK's own page types do not accept `nextPage()`'s type). */
export interface PageLike<T> {
  instances: T[];
  nextPage(): Promise<PageLike<T>> | undefined;
}
