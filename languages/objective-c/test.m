#import <Foundation/Foundation.h>

int main(void)
{
    NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
    NSArray *parts = [NSArray arrayWithObjects:@"O", @"K", nil];
    NSString *s = [parts componentsJoinedByString:@""];
    printf("%s\n", [s UTF8String]);
    [pool drain];
    return 0;
}
