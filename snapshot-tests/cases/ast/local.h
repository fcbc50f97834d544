#define LOCAL_LIMIT 4
